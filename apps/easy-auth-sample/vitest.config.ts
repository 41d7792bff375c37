import { azcredVitest } from '@azcred/tooling-vitest'

export default azcredVitest()
