export type { RegisterAppOptions, RegisteredApp } from './directory'
export type { EntraEmulator, EntraEmulatorOptions, RecordedRequest } from './emulator-server'
export { startEntraEmulator } from './emulator-server'
export type { Fault } from './faults'
