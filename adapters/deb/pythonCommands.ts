/**
 * What Python's packages run on install that layerpkg leaves out as caches: byte-compiling with
 * py_compile.py, and the python3 runtime hooks dh_python3 writes (they byte-compile a package's
 * modules for a new default python). A hook that does anything else is reported.
 */
import { commandWords } from '../shell/shellCommands.js';
import type { PackageMetadata } from '../types.js';
import { capturedText } from './capturedFile.js';
import { pythonBytecode, type CommandResult } from './serviceCommands.js';

const RUNTIME_HOOKS = 'usr/share/python3/runtime.d/';

export function isPythonRuntimeHook(path: string): boolean {
  return path.startsWith(RUNTIME_HOOKS) && /\.(rtupdate|rtinstall)$/.test(path);
}

/**
 * A python3 runtime hook (python3's postinst runs every /usr/share/python3/runtime.d/*.rtupdate
 * for the new default python): dh_python3 writes them to clean and byte-compile a package's
 * modules, a cache. Left out when the hook does nothing else; reported otherwise.
 */
export function pythonRuntimeHook(name: string, packages: readonly PackageMetadata[]): CommandResult {
  const text = capturedText(packages, `${RUNTIME_HOOKS}${name}`);
  if (text === undefined) return { unrecognized: `${name}: no package in the image ships /${RUNTIME_HOOKS}${name}` };
  const other = commandWords(text).commands.map((c) => c.command).filter((c) => !/^(py3clean|py3compile|pypy3clean|pypy3compile|\[|test|set|echo|which|exit|basename)$/.test(c));
  if (other.length) return { unrecognized: `${name}: a python runtime hook that runs ${[...new Set(other)].join(', ')}` };
  return { effects: [{ kind: 'left-out', tool: name, reason: 'a python runtime hook: it byte-compiles modules for the new python, a cache Python writes itself' }] };
}

/** `python3.11 -E -S [-O] /usr/lib/python3.11/py_compile.py FILES`: byte-compiling, as py3compile does. */
export function isPythonCompile(name: string, args: string[]): boolean {
  return /^python3(\.\d+)?$/.test(name) && args.some((a) => /^\/usr\/lib\/python3(\.\d+)?\/py_compile\.py$/.test(a)) && args.every((a) => /^-[ESOB]+$/.test(a) || !a.startsWith('-'));
}

/** py_compile runs and runtime hooks as left-out caches; undefined for any other command. */
export function pythonCommand(name: string, args: string[], packages: readonly PackageMetadata[]): CommandResult | undefined {
  if (isPythonCompile(name, args)) return pythonBytecode(name);
  if (/\.(rtupdate|rtinstall)$/.test(name)) return pythonRuntimeHook(name, packages);
  return undefined;
}
