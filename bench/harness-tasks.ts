/**
 * The harness's own task suite (issue 15): everyday shell tasks in families, each with a strict
 * validator, a right command that passes it and a plausible wrong one that must fail it
 * (`checkSuite` proves both for every task, without tmux). Families marked heldOut are never
 * used to calibrate anything; each family also has demonstrations: the same kind of task in other
 * words and with other parameters than its test tasks, which is what training is given.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Validator {
  kind: "regex" | "command";
  pattern?: string;
  command?: string;
}

export interface SuiteTask {
  family: string;
  task: string;
  files: Record<string, string>;
  validator: Validator;
  right: string;
  wrong: string;
  /** Files the task asks to change or delete; any other fixture file changed or gone was destroyed. */
  mayChange?: string[];
}

export interface Family {
  name: string;
  heldOut: boolean;
  tasks: SuiteTask[];
  /** Demonstrations: [task, command] in other words and with other parameters than the tasks. */
  demos: Array<[string, string]>;
}

const FRUIT = "pear\napple\nfig\napple\nkiwi\n";
const POEM = "roses are red\nviolets are blue\nsugar is sweet\nand so are you\n";

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The command's whole output is exactly these lines (blank space around them allowed). */
export function exactly(lines: string[]): Validator {
  return { kind: "regex", pattern: `^(?<!\\S[\\s\\S]*)${lines.map(esc).join("\\n")}$(?![\\s\\S]*\\S)` };
}

const fam = (name: string, heldOut: boolean, demos: Array<[string, string]>, tasks: Array<Omit<SuiteTask, "family">>): Family => ({
  name,
  heldOut,
  demos,
  tasks: tasks.map((t) => ({ ...t, family: name })),
});

export const FAMILIES: Family[] = [
  // ---- calibration / training families ----
  fam("count-lines", false, [["count the lines of poem.md", "wc -l < poem.md"], ["how many lines does todo.txt have", "wc -l < todo.txt"], ["line count of x.log", "wc -l < x.log"]], [
    { task: "count the lines in fruit.txt", files: { "fruit.txt": FRUIT }, validator: exactly(["5"]), right: "wc -l < fruit.txt", wrong: "wc -c < fruit.txt" },
    { task: "how many lines are in poem.txt", files: { "poem.txt": POEM }, validator: exactly(["4"]), right: "wc -l < poem.txt", wrong: "wc -c < poem.txt" },
    { task: "tell me the number of lines of list.csv", files: { "list.csv": "a,1\nb,2\n" }, validator: exactly(["2"]), right: "wc -l < list.csv", wrong: "cat list.csv" },
    { task: "count lines in the file app.log", files: { "app.log": "x\ny\nz\n" }, validator: exactly(["3"]), right: "wc -l < app.log", wrong: "wc -c < app.log" },
  ]),
  fam("first-lines", false, [["show the first 3 lines of readme.md", "head -n 3 readme.md"], ["print the top 1 lines of a.txt", "head -n 1 a.txt"], ["first 5 lines of log.txt", "head -n 5 log.txt"]], [
    { task: "show the first 2 lines of poem.txt", files: { "poem.txt": POEM }, validator: exactly(["roses are red", "violets are blue"]), right: "head -n 2 poem.txt", wrong: "head -n 1 poem.txt" },
    { task: "print the first 3 lines of fruit.txt", files: { "fruit.txt": FRUIT }, validator: exactly(["pear", "apple", "fig"]), right: "head -n 3 fruit.txt", wrong: "tail -n 3 fruit.txt" },
    { task: "display the top 1 lines of poem.txt", files: { "poem.txt": POEM }, validator: exactly(["roses are red"]), right: "head -n 1 poem.txt", wrong: "cat poem.txt" },
    { task: "show the first 4 lines of fruit.txt", files: { "fruit.txt": FRUIT }, validator: exactly(["pear", "apple", "fig", "apple"]), right: "head -n 4 fruit.txt", wrong: "sort fruit.txt" },
  ]),
  fam("sort", false, [["sort the lines of names.txt", "sort names.txt"], ["print cities.txt sorted", "sort cities.txt"], ["show the lines of a.csv in sorted order", "sort a.csv"]], [
    { task: "sort the lines of fruit.txt", files: { "fruit.txt": FRUIT }, validator: exactly(["apple", "apple", "fig", "kiwi", "pear"]), right: "sort fruit.txt", wrong: "sort -u fruit.txt" },
    { task: "print words.txt sorted", files: { "words.txt": "b\nc\na\n" }, validator: exactly(["a", "b", "c"]), right: "sort words.txt", wrong: "cat words.txt" },
    { task: "show the lines of poem.txt in sorted order", files: { "poem.txt": POEM }, validator: exactly(["and so are you", "roses are red", "sugar is sweet", "violets are blue"]), right: "sort poem.txt", wrong: "sort -r poem.txt" },
    { task: "sort the lines in list.txt", files: { "list.txt": "9\n10\n1\n" }, validator: exactly(["1", "10", "9"]), right: "sort list.txt", wrong: "sort -n list.txt" },
  ]),
  fam("make-dir", false, [["create a directory called out", "mkdir -p out"], ["make a new folder named tmp2", "mkdir -p tmp2"], ["make a directory named logs", "mkdir -p logs"]], [
    { task: "make a directory called build", files: {}, validator: { kind: "command", command: "test -d build" }, right: "mkdir -p build", wrong: "touch build" },
    { task: "create a folder named dist", files: {}, validator: { kind: "command", command: "test -d dist" }, right: "mkdir -p dist", wrong: "touch dist" },
    { task: "make a new directory called cache", files: {}, validator: { kind: "command", command: "test -d cache" }, right: "mkdir -p cache", wrong: "echo cache" },
    { task: "create a directory named src/lib", files: {}, validator: { kind: "command", command: "test -d src/lib" }, right: "mkdir -p src/lib", wrong: "mkdir src/lib" },
  ]),
  fam("uppercase", false, [["print a.txt in uppercase", "tr a-z A-Z < a.txt"], ["convert b.md to uppercase", "tr a-z A-Z < b.md"], ["show notes.txt in capital letters", "tr a-z A-Z < notes.txt"]], [
    { task: "show fruit.txt in uppercase", files: { "fruit.txt": FRUIT }, validator: exactly(["PEAR", "APPLE", "FIG", "APPLE", "KIWI"]), right: "tr a-z A-Z < fruit.txt", wrong: "cat fruit.txt" },
    { task: "print poem.txt in uppercase", files: { "poem.txt": POEM }, validator: exactly(POEM.trim().toUpperCase().split("\n")), right: "tr a-z A-Z < poem.txt", wrong: "tr A-Z a-z < poem.txt" },
    { task: "convert words.txt to uppercase", files: { "words.txt": "b\nc\na\n" }, validator: exactly(["B", "C", "A"]), right: "tr a-z A-Z < words.txt", wrong: "sort words.txt" },
    { task: "display list.txt in capital letters", files: { "list.txt": "x1\ny2\n" }, validator: exactly(["X1", "Y2"]), right: "tr a-z A-Z < list.txt", wrong: "cat list.txt" },
  ]),
  fam("write-file", false, [["write the text ok into result.txt", "printf '%s\\n' ok > result.txt"], ["put the word yes into answer.txt", "printf '%s\\n' yes > answer.txt"], ["save the text hi into greet.txt", "printf '%s\\n' hi > greet.txt"]], [
    { task: "write the text done into status.txt", files: {}, validator: { kind: "command", command: 'test "$(cat status.txt)" = done' }, right: "printf '%s\\n' done > status.txt", wrong: "touch status.txt", mayChange: ["status.txt"] },
    { task: "put the word ready into flag.txt", files: {}, validator: { kind: "command", command: 'test "$(cat flag.txt)" = ready' }, right: "printf '%s\\n' ready > flag.txt", wrong: "echo flag.txt > ready", mayChange: ["flag.txt"] },
    { task: 'write "hello there" to a file named greeting.txt', files: {}, validator: { kind: "command", command: "test \"$(cat greeting.txt)\" = 'hello there'" }, right: "printf '%s\\n' 'hello there' > greeting.txt", wrong: "echo hello > greeting.txt", mayChange: ["greeting.txt"] },
    { task: "save the text 42 into answer.txt", files: {}, validator: { kind: "command", command: 'test "$(cat answer.txt)" = 42' }, right: "printf '%s\\n' 42 > answer.txt", wrong: "touch answer.txt", mayChange: ["answer.txt"] },
  ]),
  fam("run-script", false, [["execute the file hello.py", "python3 hello.py"], ["run the python script tool.py", "python3 tool.py"], ["run main.py with python", "python3 main.py"]], [
    { task: "execute the file b.py", files: { "b.py": "print('hi from b')\n" }, validator: exactly(["hi from b"]), right: "python3 b.py", wrong: "cat b.py" },
    { task: "run the python script job.py", files: { "job.py": "print(6*7)\n" }, validator: exactly(["42"]), right: "python3 job.py", wrong: "python3 -c 'print(41)'" },
    { task: "run app.py with python", files: { "app.py": "import sys\nprint('app', len(sys.argv))\n" }, validator: exactly(["app 1"]), right: "python3 app.py", wrong: "python3 app.py x" },
    { task: "execute the python file calc.py", files: { "calc.py": "print(2**10)\n" }, validator: exactly(["1024"]), right: "python3 calc.py", wrong: "head -n 1 calc.py" },
  ]),
  // ---- held-out families: never used to calibrate ----
  fam("reverse", true, [["reverse the lines of notes.txt", "tac notes.txt"], ["print the lines of x.csv in reverse order", "tac x.csv"], ["show log.txt backwards", "tac log.txt"]], [
    { task: "reverse the lines in data.csv", files: { "data.csv": "1\n2\n3\n" }, validator: exactly(["3", "2", "1"]), right: "tac data.csv", wrong: "cat data.csv" },
    { task: "print the lines of fruit.txt in reverse order", files: { "fruit.txt": FRUIT }, validator: exactly(["kiwi", "apple", "fig", "apple", "pear"]), right: "tac fruit.txt", wrong: "sort -r fruit.txt" },
    { task: "show poem.txt backwards", files: { "poem.txt": POEM }, validator: exactly(["and so are you", "sugar is sweet", "violets are blue", "roses are red"]), right: "tac poem.txt", wrong: "rev poem.txt" },
    { task: "reverse the order of the lines of words.txt", files: { "words.txt": "b\nc\na\n" }, validator: exactly(["a", "c", "b"]), right: "tac words.txt", wrong: "sort -r words.txt" },
  ]),
  fam("word-count", true, [["count the words in essay.txt", "wc -w < essay.txt"], ["how many words are in a.md", "wc -w < a.md"], ["word count of notes.txt", "wc -w < notes.txt"]], [
    { task: "count the words in poem.txt", files: { "poem.txt": POEM }, validator: exactly(["13"]), right: "wc -w < poem.txt", wrong: "wc -l < poem.txt" },
    { task: "how many words are in fruit.txt", files: { "fruit.txt": FRUIT }, validator: exactly(["5"]), right: "wc -w < fruit.txt", wrong: "wc -c < fruit.txt" },
    { task: "word count of story.txt", files: { "story.txt": "once upon a time\n" }, validator: exactly(["4"]), right: "wc -w < story.txt", wrong: "wc -l < story.txt" },
    { task: "count the words of title.txt", files: { "title.txt": "a b c d e f g\n" }, validator: exactly(["7"]), right: "wc -w < title.txt", wrong: "wc -c < title.txt" },
  ]),
  fam("last-lines", true, [["show the last 3 lines of log.txt", "tail -n 3 log.txt"], ["print the final 1 lines of a.csv", "tail -n 1 a.csv"], ["last 5 lines of out.log", "tail -n 5 out.log"]], [
    { task: "show the last 2 lines of poem.txt", files: { "poem.txt": POEM }, validator: exactly(["sugar is sweet", "and so are you"]), right: "tail -n 2 poem.txt", wrong: "head -n 2 poem.txt" },
    { task: "print the last 1 lines of fruit.txt", files: { "fruit.txt": FRUIT }, validator: exactly(["kiwi"]), right: "tail -n 1 fruit.txt", wrong: "head -n 1 fruit.txt" },
    { task: "display the final 3 lines of fruit.txt", files: { "fruit.txt": FRUIT }, validator: exactly(["fig", "apple", "kiwi"]), right: "tail -n 3 fruit.txt", wrong: "tail -n 2 fruit.txt" },
    { task: "last 2 lines of words.txt", files: { "words.txt": "b\nc\na\n" }, validator: exactly(["c", "a"]), right: "tail -n 2 words.txt", wrong: "sort words.txt" },
  ]),
  fam("unique", true, [["show the unique lines of names.txt", "sort -u names.txt"], ["print the distinct lines of a.txt", "sort -u a.txt"], ["list unique lines in log.txt", "sort -u log.txt"]], [
    { task: "show the unique lines of fruit.txt", files: { "fruit.txt": FRUIT }, validator: exactly(["apple", "fig", "kiwi", "pear"]), right: "sort -u fruit.txt", wrong: "sort fruit.txt" },
    { task: "print the distinct lines of tags.txt", files: { "tags.txt": "b\na\nb\n" }, validator: exactly(["a", "b"]), right: "sort -u tags.txt", wrong: "uniq tags.txt" },
    { task: "list unique lines in ids.txt", files: { "ids.txt": "3\n1\n3\n2\n1\n" }, validator: exactly(["1", "2", "3"]), right: "sort -u ids.txt", wrong: "sort ids.txt" },
    { task: "show the unique lines in colors.txt", files: { "colors.txt": "red\nblue\nred\n" }, validator: exactly(["blue", "red"]), right: "sort -u colors.txt", wrong: "cat colors.txt" },
  ]),
  fam("empty-file", true, [["create an empty file named a.log", "touch a.log"], ["make a new empty file called x.txt", "touch x.txt"], ["create an empty file called b.md", "touch b.md"]], [
    { task: "create an empty file named notes.txt", files: {}, validator: { kind: "command", command: "test -f notes.txt && test ! -s notes.txt" }, right: "touch notes.txt", wrong: "echo > notes.txt", mayChange: ["notes.txt"] },
    { task: "make an empty file called todo.md", files: {}, validator: { kind: "command", command: "test -f todo.md && test ! -s todo.md" }, right: "touch todo.md", wrong: "mkdir todo.md", mayChange: ["todo.md"] },
    { task: "create a new empty file named .env", files: {}, validator: { kind: "command", command: "test -f .env && test ! -s .env" }, right: "touch .env", wrong: "echo .env", mayChange: [".env"] },
    { task: "create an empty file called data.json", files: {}, validator: { kind: "command", command: "test -f data.json && test ! -s data.json" }, right: "touch data.json", wrong: "echo '{}' > data.json", mayChange: ["data.json"] },
  ]),
  fam("grep-count", true, [['count the lines containing "x" in a.txt', "grep -c -- x a.txt"], ['how many lines of log.txt contain "error"', "grep -c -- error log.txt"], ['count lines with "TODO" in main.c', "grep -c -- TODO main.c"]], [
    { task: 'count the lines containing "apple" in fruit.txt', files: { "fruit.txt": FRUIT }, validator: exactly(["2"]), right: "grep -c -- apple fruit.txt", wrong: "grep -- apple fruit.txt" },
    { task: 'how many lines of poem.txt contain "are"', files: { "poem.txt": POEM }, validator: exactly(["3"]), right: "grep -c -- are poem.txt", wrong: "wc -l < poem.txt" },
    { task: 'count lines with "b" in tags.txt', files: { "tags.txt": "b\na\nb\n" }, validator: exactly(["2"]), right: "grep -c -- b tags.txt", wrong: "grep -c -- a tags.txt" },
    { task: 'count the lines containing "red" in colors.txt', files: { "colors.txt": "red\nblue\nred\n" }, validator: exactly(["2"]), right: "grep -c -- red colors.txt", wrong: "wc -l < colors.txt" },
  ]),
  fam("show-file", true, [["show the contents of a.txt", "cat a.txt"], ["print the file notes.md", "cat notes.md"], ["display the contents of x.csv", "cat x.csv"]], [
    { task: "show the contents of the file words.txt", files: { "words.txt": "b\nc\na\n" }, validator: exactly(["b", "c", "a"]), right: "cat words.txt", wrong: "sort words.txt" },
    { task: "print the file tags.txt", files: { "tags.txt": "b\na\nb\n" }, validator: exactly(["b", "a", "b"]), right: "cat tags.txt", wrong: "sort -u tags.txt" },
    { task: "display the contents of data.csv", files: { "data.csv": "1\n2\n3\n" }, validator: exactly(["1", "2", "3"]), right: "cat data.csv", wrong: "tac data.csv" },
    { task: "show what is in colors.txt", files: { "colors.txt": "red\nblue\n" }, validator: exactly(["red", "blue"]), right: "cat colors.txt", wrong: "head -n 1 colors.txt" },
  ]),
  // Added with the manual (src/harness/manual*.ts): saving a command's output into a file, which
  // the manual alone does not say; measures whether "… into F" taught by other families carries over.
  fam("save-output", true, [["save the date into today.txt", "date > today.txt"], ["write the current user name into who.txt", "whoami > who.txt"], ["put the first 3 lines of a.txt into top.txt", "head -n 3 a.txt > top.txt"]], [
    { task: "save the kernel name into k.txt", files: {}, validator: { kind: "command", command: 'test "$(cat k.txt)" = "$(uname -s)"' }, right: "uname -s > k.txt", wrong: "uname -r > k.txt", mayChange: ["k.txt"] },
    { task: "write the numbers from 1 to 3 into n.txt", files: {}, validator: { kind: "command", command: "test \"$(cat n.txt)\" = \"$(printf '1\\n2\\n3')\"" }, right: "seq 1 3 > n.txt", wrong: "echo 1 3 > n.txt", mayChange: ["n.txt"] },
    { task: "put the last 2 lines of poem.txt into end.txt", files: { "poem.txt": POEM }, validator: { kind: "command", command: "test \"$(cat end.txt)\" = \"$(printf 'sugar is sweet\\nand so are you')\"" }, right: "tail -n 2 poem.txt > end.txt", wrong: "head -n 2 poem.txt > end.txt", mayChange: ["end.txt"] },
    { task: "save the lines of fruit.txt in reverse order into rev.txt", files: { "fruit.txt": FRUIT }, validator: { kind: "command", command: "test \"$(cat rev.txt)\" = \"$(printf 'kiwi\\napple\\nfig\\napple\\npear')\"" }, right: "tac fruit.txt > rev.txt", wrong: "sort -r fruit.txt > rev.txt", mayChange: ["rev.txt"] },
  ]),
];

export const TASKS: SuiteTask[] = FAMILIES.flatMap((f) => f.tasks);

/** Put the task's fixture files in `dir`. */
export function setUp(dir: string, t: SuiteTask): void {
  for (const [name, body] of Object.entries(t.files)) writeFileSync(join(dir, name), body);
}

/** Fixture files the task did not ask to change that are gone or changed. */
export function destroyed(dir: string, t: SuiteTask): string[] {
  return Object.entries(t.files)
    .filter(([name]) => !(t.mayChange ?? []).includes(name))
    .filter(([name, body]) => !existsSync(join(dir, name)) || readFileSync(join(dir, name), "utf8") !== body)
    .map(([name]) => name);
}

/** Apply a validator to a command's output and directory, as run_harness does. */
export function passes(v: Validator, output: string, cwd: string): boolean {
  if (v.kind === "regex") return new RegExp(v.pattern!, "m").test(output);
  return spawnSync("bash", ["-c", v.command!], { cwd, stdio: "ignore", timeout: 10_000 }).status === 0;
}

/** Every validator passes with the right command and fails with the wrong one; returns the problems. */
export function checkSuite(): string[] {
  const problems: string[] = [];
  for (const t of TASKS) {
    for (const [which, command, want] of [["right", t.right, true], ["wrong", t.wrong, false]] as const) {
      const dir = mkdtempSync(join(tmpdir(), "xmcp-suite-"));
      try {
        setUp(dir, t);
        const r = spawnSync("bash", ["-c", command], { cwd: dir, encoding: "utf8", timeout: 10_000 });
        if (passes(t.validator, r.stdout, dir) !== want) problems.push(`${t.family}: "${t.task}": the ${which} command ${JSON.stringify(command)} ${want ? "fails" : "passes"} the validator`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return problems;
}
