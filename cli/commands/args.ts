/**
 * `labforge <tool> <command> [ARG] [options]`, the shape of the commands that manage records
 * (tokens, webhooks, lti): the same checks, and the same usage mistake (exit 2), for each.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Tool<O extends Options> {
  name: string;
  usage: string;
  options: O;
  /** Every command, with what to say when it lacks its one argument (null: it takes none). */
  commands: Record<string, string | null>;
}

/** The command, its options and argument; or, for a usage mistake, the usage printed and its exit code. */
export function parseCommand<O extends Options>(tool: Tool<O>, [command = '', ...rest]: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: tool.options, allowPositionals: true, strict: true });
  } catch (e) {
    return usageMistake(tool, (e as Error).message);
  }
  if (!Object.hasOwn(tool.commands, command)) return usageMistake(tool, command ? `unknown ${tool.name} command "${command}"` : '');
  const needsOne = tool.commands[command];
  if (parsed.positionals.length !== (needsOne ? 1 : 0)) return usageMistake(tool, needsOne ?? `unexpected argument "${parsed.positionals[0]}"`);
  return { command, ...parsed };
}

export const out = (text: string) => process.stdout.write(text);

/** `message` (none: just the usage) on stderr; exit code 2. */
export function usageMistake(tool: Pick<Tool<Options>, 'name' | 'usage'>, message: string): number {
  process.stderr.write(`${message ? `labforge ${tool.name}: ${message}\n` : ''}${tool.usage}\n`);
  return 2;
}
