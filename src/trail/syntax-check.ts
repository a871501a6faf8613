import { runProcess } from "./git.js";

/**
 * Syntax validity of source files typed in a trail: does the file parse? Python goes through the
 * machine's own `python3` (`ast.parse`, one process for any number of files); JavaScript and
 * TypeScript through the `typescript` package's parser (syntactic errors only, no type checking).
 */

export type SourceLanguage = "python" | "js" | "jsx" | "ts" | "tsx";

const EXTENSIONS: Record<string, SourceLanguage> = {
  py: "python",
  pyi: "python",
  js: "js",
  mjs: "js",
  cjs: "js",
  jsx: "jsx",
  ts: "ts",
  mts: "ts",
  cts: "ts",
  tsx: "tsx",
};

/** The language of a source file by its extension; null for anything we do not parse. */
export function sourceLanguage(path: string): SourceLanguage | null {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return null; // no extension, or a dotfile such as ".py"
  return EXTENSIONS[base.slice(dot + 1).toLowerCase()] ?? null;
}

// Reads `<length>\n<bytes>` records from stdin, answers one '1' (parses) or '0' per record.
// ast.parse of bytes honours PEP 263 coding cookies and a BOM like the interpreter does.
const PYTHON_CHECKER = String.raw`
import ast, sys, warnings
warnings.simplefilter("ignore")
data = sys.stdin.buffer.read()
out = []
pos = 0
while pos < len(data):
    nl = data.index(b"\n", pos)
    n = int(data[pos:nl])
    src = data[nl + 1 : nl + 1 + n]
    pos = nl + 1 + n
    try:
        ast.parse(src)
        out.append("1")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        out.append("0")
sys.stdout.write("".join(out))
`;

/** Whether each Python source parses; one `python3` process for all of them. */
export async function checkPython(sources: readonly Buffer[]): Promise<boolean[]> {
  if (sources.length === 0) return [];
  const input = Buffer.concat(sources.flatMap((s) => [Buffer.from(`${s.length}\n`, "ascii"), s]));
  // -I: ignore PYTHON* variables and the user's site-packages; -S: skip site (faster start).
  const { stdout } = await runProcess("python3", ["-I", "-S", "-c", PYTHON_CHECKER], process.env, { input }).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new Error("python3 is needed to check the syntax of Python files in a trail, and it is not on PATH");
    throw e;
  });
  const answers = stdout.toString("ascii");
  if (answers.length !== sources.length || /[^01]/.test(answers)) {
    throw new Error(`python3 syntax checker answered ${answers.length} results for ${sources.length} files`);
  }
  return [...answers].map((c) => c === "1");
}

type Ts = typeof import("typescript");
let tsModule: Promise<Ts> | undefined;

// Loaded on first use: the compiler is large and most validations have no JS/TS files.
function loadTs(): Promise<Ts> {
  tsModule ??= import("typescript").then((m) => (m as { default?: Ts }).default ?? (m as unknown as Ts));
  return tsModule;
}

/** Whether a JS/TS source has no syntactic errors (`parseDiagnostics` of `ts.createSourceFile`). */
export async function checkJsTs(language: Exclude<SourceLanguage, "python">, text: string): Promise<boolean> {
  const ts = await loadTs();
  const kind = { js: ts.ScriptKind.JS, jsx: ts.ScriptKind.JSX, ts: ts.ScriptKind.TS, tsx: ts.ScriptKind.TSX }[language];
  const file = ts.createSourceFile(`file.${language}`, text, ts.ScriptTarget.Latest, false, kind);
  // parseDiagnostics is not in the public typings, but it is exactly the parser's own error list.
  const diagnostics = (file as unknown as { parseDiagnostics?: readonly unknown[] }).parseDiagnostics;
  if (!Array.isArray(diagnostics)) throw new Error("this typescript version does not expose parseDiagnostics");
  return diagnostics.length === 0;
}
