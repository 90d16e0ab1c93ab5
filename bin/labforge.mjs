#!/usr/bin/env node
// The `labforge` command: runs the TypeScript CLI through tsx, from any directory.
import { register } from 'tsx/esm/api';

register();
await import('../cli/labforge.ts');
