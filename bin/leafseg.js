#!/usr/bin/env node
// `npx leafseg …` from the checkout: the CLI runs its TypeScript sources through tsx.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/main.ts')
