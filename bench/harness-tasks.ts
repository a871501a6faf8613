/**
 * The harness's own task suite (issue 15): everyday shell tasks in families, each with a strict
 * validator, a right command that passes it and a plausible wrong one that must fail it
 * (`checkSuite` proves both for every task, without tmux). Families marked heldOut are never
 * used to calibrate anything; each family also has demonstrations: the same kind of task in other
 * words and with other parameters than its test tasks, which is what training is given.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

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
  /** Written after the manual (src/harness/manual*.ts) was built and never looked at while tuning it. */
  fresh?: boolean;
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
  // ---- fresh held-out families: written after the manual was built, measured once, not tuned on ----
  { ...fam("char-count", true, [["count the characters in a.txt", "wc -m < a.txt"], ["how many characters are in b.md", "wc -m < b.md"], ["character count of c.txt", "wc -m < c.txt"]], [
    { task: "count the characters in word.txt", files: { "word.txt": "hello\n" }, validator: exactly(["6"]), right: "wc -m < word.txt", wrong: "wc -w < word.txt" },
    { task: "how many characters are in poem.txt", files: { "poem.txt": POEM }, validator: exactly(["61"]), right: "wc -m < poem.txt", wrong: "wc -l < poem.txt" },
    { task: "tell me the number of characters in tags.txt", files: { "tags.txt": "b\na\nb\n" }, validator: exactly(["6"]), right: "wc -m < tags.txt", wrong: "wc -l < tags.txt" },
    { task: "character count of fruit.txt", files: { "fruit.txt": FRUIT }, validator: exactly(["26"]), right: "wc -m < fruit.txt", wrong: "wc -w < fruit.txt" },
  ]), fresh: true },
  { ...fam("sort-reverse", true, [["sort a.txt in reverse order", "sort -r a.txt"], ["sort the lines of b.txt backwards", "sort -r b.txt"], ["print c.csv sorted in descending order", "sort -r c.csv"]], [
    { task: "sort the lines of fruit.txt in reverse order", files: { "fruit.txt": FRUIT }, validator: exactly(["pear", "kiwi", "fig", "apple", "apple"]), right: "sort -r fruit.txt", wrong: "tac fruit.txt" },
    { task: "sort words.txt in reverse", files: { "words.txt": "b\nc\na\n" }, validator: exactly(["c", "b", "a"]), right: "sort -r words.txt", wrong: "sort words.txt" },
    { task: "show poem.txt sorted in descending order", files: { "poem.txt": POEM }, validator: exactly(["violets are blue", "sugar is sweet", "roses are red", "and so are you"]), right: "sort -r poem.txt", wrong: "tac poem.txt" },
    { task: "print the lines of colors.txt sorted in reverse order", files: { "colors.txt": "red\nblue\ngreen\n" }, validator: exactly(["red", "green", "blue"]), right: "sort -r colors.txt", wrong: "tac colors.txt" },
  ]), fresh: true },
  { ...fam("numbers", true, [["print the numbers from 2 to 4", "seq 2 4"], ["list the numbers 1 to 10", "seq 1 10"], ["show the numbers from 5 to 7", "seq 5 7"]], [
    { task: "print the numbers from 1 to 5", files: {}, validator: exactly(["1", "2", "3", "4", "5"]), right: "seq 1 5", wrong: "echo 1 5" },
    { task: "show the numbers from 3 to 6", files: {}, validator: exactly(["3", "4", "5", "6"]), right: "seq 3 6", wrong: "seq 3" },
    { task: "list the numbers from 7 to 9", files: {}, validator: exactly(["7", "8", "9"]), right: "seq 7 9", wrong: "echo 7 8 9" },
    { task: "print a sequence of numbers from 10 to 12", files: {}, validator: exactly(["10", "11", "12"]), right: "seq 10 12", wrong: "seq 12" },
  ]), fresh: true },
  { ...fam("number-lines", true, [["number the lines of a.txt", "cat -n a.txt"], ["show b.md with line numbers", "cat -n b.md"], ["print c.txt with its lines numbered", "cat -n c.txt"]], [
    { task: "number the lines of words.txt", files: { "words.txt": "b\nc\na\n" }, validator: { kind: "regex", pattern: "^\\s*1\\s+b\\n\\s*2\\s+c\\n\\s*3\\s+a$" }, right: "cat -n words.txt", wrong: "cat words.txt" },
    { task: "show tags.txt with line numbers", files: { "tags.txt": "x\ny\n" }, validator: { kind: "regex", pattern: "^\\s*1\\s+x\\n\\s*2\\s+y$" }, right: "cat -n tags.txt", wrong: "grep -c . tags.txt" },
    { task: "print colors.txt with its lines numbered", files: { "colors.txt": "red\nblue\n" }, validator: { kind: "regex", pattern: "^\\s*1\\s+red\\n\\s*2\\s+blue$" }, right: "cat -n colors.txt", wrong: "cat colors.txt" },
    { task: "number the lines in list.txt", files: { "list.txt": "one\ntwo\nthree\n" }, validator: { kind: "regex", pattern: "^\\s*1\\s+one\\n\\s*2\\s+two\\n\\s*3\\s+three$" }, right: "cat -n list.txt", wrong: "sort list.txt" },
  ]), fresh: true },
  { ...fam("first-chars", true, [["show the first 3 characters of a.txt", "head -c 3 a.txt"], ["print the first 10 bytes of b.bin", "head -c 10 b.bin"], ["first 4 characters of c.txt", "head -c 4 c.txt"]], [
    { task: "show the first 5 bytes of poem.txt", files: { "poem.txt": POEM }, validator: exactly(["roses"]), right: "head -c 5 poem.txt", wrong: "head -n 5 poem.txt" },
    { task: "print the first 3 bytes of fruit.txt", files: { "fruit.txt": FRUIT }, validator: exactly(["pea"]), right: "head -c 3 fruit.txt", wrong: "head -n 3 fruit.txt" },
    { task: "show the first 7 characters of poem.txt", files: { "poem.txt": POEM }, validator: exactly(["roses a"]), right: "head -c 7 poem.txt", wrong: "head -n 1 poem.txt" },
    { task: "print the first 2 bytes of words.txt", files: { "words.txt": "b\nc\na\n" }, validator: exactly(["b"]), right: "head -c 2 words.txt", wrong: "head -n 2 words.txt" },
  ]), fresh: true },
  { ...fam("list-dir", true, [["list the files in the directory docs", "ls docs"], ["show what is in the folder img", "ls img"], ["list the contents of the directory lib", "ls lib"]], [
    { task: "list the files in the directory src", files: { "src/a.c": "", "src/b.h": "" }, validator: exactly(["a.c", "b.h"]), right: "ls src", wrong: "ls" },
    { task: "list the contents of the directory conf", files: { "conf/x.ini": "" }, validator: exactly(["x.ini"]), right: "ls conf", wrong: "ls -d conf" },
    { task: "show the files in the folder out", files: { "out/r1.txt": "", "out/r2.txt": "" }, validator: exactly(["r1.txt", "r2.txt"]), right: "ls out", wrong: "echo out" },
    { task: "list the directory data", files: { "data/d.csv": "" }, validator: exactly(["d.csv"]), right: "ls data", wrong: "ls -la data" },
  ]), fresh: true },
];

export const TASKS: SuiteTask[] = FAMILIES.flatMap((f) => f.tasks);

/** Put the task's fixture files in `dir`. */
export function setUp(dir: string, t: SuiteTask): void {
  for (const [name, body] of Object.entries(t.files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
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
