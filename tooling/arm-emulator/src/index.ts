export type { ArmEmulator, ArmEmulatorOptions, ArmRequestRecord, EmulatedResourceGroup, EmulatedVirtualMachine } from './arm-emulator'
export { startArmEmulator } from './arm-emulator'
