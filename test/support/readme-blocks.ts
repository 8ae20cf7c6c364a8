// Code blocks of the READMEs, for test/readme-examples.test.ts: every fenced ts/js block runs
// against the mock server, unless an HTML comment right above it says why it cannot:
//
//   <!-- not runnable: needs a real Entra tenant -->
//   ```ts
//
// A ```sh or ```console block whose lines start with `tokenwell ` or `$ tokenwell ` is a CLI
// example: see CLI_EXAMPLES in the test for the ones that are run.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface ReadmeBlock {
  /** e.g. `packages/core/README.md:17` (the line of the opening fence). */
  where: string
  lang: string
  code: string
  /** The reason given in `<!-- not runnable: … -->`, when the block is marked so. */
  notRunnable?: string
}

export const root = fileURLToPath(new URL('../../', import.meta.url))
const CODE_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs'])
const MARK = /^<!--\s*not runnable:\s*(.+?)\s*-->$/

/** README.md and every packages/<name>/README.md, relative to the repository root. */
export function readmeFiles(): string[] {
  const packages = readdirSync(`${root}packages`).map((dir) => `packages/${dir}/README.md`)
  return ['README.md', ...packages.filter((file) => exists(file))]
}

function exists(file: string): boolean {
  try {
    readFileSync(`${root}${file}`)
    return true
  } catch {
    return false
  }
}

/** The fenced blocks of `file`, with the marker above each one. */
export function readmeBlocks(file: string): ReadmeBlock[] {
  const lines = readFileSync(`${root}${file}`, 'utf8').split('\n')
  const blocks: ReadmeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(\S*)\s*$/.exec(lines[i]!)
    if (!open) continue
    const [, fence, lang] = open
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && lines[i] !== fence; i++) body.push(lines[i]!)
    let above = start - 1
    while (above >= 0 && lines[above]!.trim() === '') above--
    const mark = above >= 0 ? MARK.exec(lines[above]!.trim()) : null
    blocks.push({
      where: `${file}:${start + 1}`,
      lang: lang!,
      code: body.join('\n'),
      ...(mark && { notRunnable: mark[1]! }),
    })
  }
  return blocks
}

/** Whether a block is TypeScript or JavaScript, and so must run or say why not. */
export function isCode(block: ReadmeBlock): boolean {
  return CODE_LANGS.has(block.lang)
}

/** Where the examples' placeholders point when they run. */
export interface MockTargets {
  tokenEndpoint: string
  issuer: string
  /** The protected API's origin; it answers every path under `/echo`. */
  apiUrl: string
}

/**
 * The placeholders of the examples, pointed at the mock servers:
 * - `https://auth.example.com/oauth2/token` → the mock token endpoint;
 * - the issuers `https://sso.example.com/…` and `https://login.example.com` → the mock issuer;
 * - `https://api.example.com` → `${apiUrl}/echo` (the mock API's echo route, so `/orders` is
 *   `/echo/orders`), except in `match: '…'`, which names an origin: there, the API's origin.
 */
export function pointAtMockServers(code: string, to: MockTargets): string {
  return code
    .replaceAll('https://auth.example.com/oauth2/token', to.tokenEndpoint)
    .replace(/https:\/\/sso\.example\.com\/realms\/[\w-]+|https:\/\/login\.example\.com/g, to.issuer)
    .replace(/(match:\s*)'https:\/\/api\.example\.com'/g, `$1'${to.apiUrl}'`)
    .replaceAll('https://api.example.com', `${to.apiUrl}/echo`)
}

/** One shell command of an example, with what it should print and its exit status when shown. */
export interface ShellStep {
  /** `VAR=value` assignments before the command. */
  env: Record<string, string>
  argv: string[]
  /** Lines shown after a `$ command` in a ```console block (`…` stands for anything). */
  output: string[]
  /** From a following `$ echo $?`. */
  exitCode?: number
}

/**
 * The commands of a ```sh or ```console block: continuation lines joined, `#` comments and
 * `[--optional parts]` dropped. In a console block only `$ ` lines are commands, and the lines
 * after each are its output.
 */
export function shellSteps(block: ReadmeBlock): ShellStep[] {
  const consoleBlock = block.lang === 'console'
  const steps: ShellStep[] = []
  let exitCodeNext = false
  for (const line of block.code.replace(/\\\n\s*/g, '').split('\n')) {
    const last = steps.at(-1)
    if (consoleBlock && line === '$ echo $?') {
      exitCodeNext = true
    } else if (exitCodeNext) {
      if (last) last.exitCode = Number(line)
      exitCodeNext = false
    } else if (consoleBlock && !line.startsWith('$ ')) {
      last?.output.push(line)
    } else {
      const command = consoleBlock ? line.slice(2) : line.replace(/(^|\s)#.*$/, '').trim()
      if (command !== '') steps.push(parseCommand(command))
    }
  }
  return steps
}

function parseCommand(command: string): ShellStep {
  const words = splitWords(command.replace(/\s\[[^\]]*\]/g, ''))
  const env: Record<string, string> = {}
  while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split('=')
    env[name!] = value.join('=')
  }
  return { env, argv: words, output: [] }
}

function splitWords(command: string): string[] {
  const words: string[] = []
  for (const match of command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g))
    words.push(match[1] ?? match[2] ?? match[3]!)
  return words
}
