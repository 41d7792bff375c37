import { azcredVitest } from './src/preset.js'

export default azcredVitest({ include: ['src/**/*.test.js'] })
