import { azcredVitest } from '@azcred/tooling-vitest'

// Every test runs under Node; the runtime-agnostic entries' tests (`imds.e2e.test.ts` for `./imds`,
// `index.e2e.test.ts` for `.` off Node) run again under edge-runtime's globals. (Project arrays are
// merged with the root's, so the edge project excludes the other files rather than listing its own.)
export default azcredVitest({
  projects: [
    { extends: true, test: { name: 'node', env: { AZCRED_TEST_RUNTIME: 'node' } } },
    {
      extends: true,
      test: {
        name: 'edge',
        environment: 'edge-runtime',
        exclude: ['src/managed-identity-*.test.ts', 'src/runtime-split.test.ts', 'node_modules/**'],
        env: { AZCRED_TEST_RUNTIME: 'edge' },
      },
    },
  ],
})
