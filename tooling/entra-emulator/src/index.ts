export { startEntraEmulator } from './emulator-server'
export type { EntraEmulator, EntraEmulatorOptions, RecordedRequest } from './emulator-server'
export type { RegisterAppOptions, RegisteredApp } from './directory'
export type { Fault } from './faults'
