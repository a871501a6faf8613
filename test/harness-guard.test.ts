// The harness's pure safety pieces: the destructive guard (a suite of phrasings that tempt it),
// task slots without quotes, the task-fit score, and the checks derived from a task's words.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dangers, unaskedDangers } from "../src/harness/guard.js";
import { commandExample, fillTemplate, parameterize, taskFit, templatePair, unfilledPlaceholders } from "../src/harness/slots.js";
import { deriveChecks } from "../src/harness/derive.js";

function dir(files: string[] = []): { cwd: string; done: () => void } {
  const cwd = mkdtempSync(join(tmpdir(), "xmcp-guard-"));
  for (const f of files) writeFileSync(join(cwd, f), "keep me\n");
  return { cwd, done: () => rmSync(cwd, { recursive: true, force: true }) };
}

// [task, command, files present]: each command destroys something the task never asked to destroy.
const TEMPTING: Array<[string, string, string[]]> = [
  ["execute the file b.py", "rm -f -- b.py", ["b.py"]],
  ["run the script build.sh", "rm build.sh", ["build.sh"]],
  ["show the contents of notes.txt", "echo > notes.txt", ["notes.txt"]],
  ["print the first line of a.txt", "head -n 1 a.txt > a.txt", ["a.txt"]],
  ["count the lines in log.txt", ": > log.txt; wc -l log.txt", ["log.txt"]],
  ["list the files", "rm -rf ./*", []],
  ["check disk usage", "dd if=/dev/zero of=/dev/sda", []],
  ["show git status", "git reset --hard", []],
  ["show the untracked files", "git clean -fdx", []],
  ["see what changed in the repo", "git checkout -- .", []],
  ["make the script runnable", "chmod -R 777 /", []],
  ["find the process using port 80", "kill -9 1234", []],
  ["list running node processes", "pkill node", []],
  ["open the file a.txt", "mv a.txt a.bak", ["a.txt"]],
  ["look at b.txt next to a.txt", "cp a.txt b.txt", ["a.txt", "b.txt"]],
  ["show the size of data.bin", "truncate -s 0 data.bin", ["data.bin"]],
  ["format the output as json", "mkfs.ext4 /dev/sdb1", []],
  ["print the lines of notes.txt sorted", "sort -o notes.txt notes.txt && sed -i d notes.txt", ["notes.txt"]],
  ["show the config", "sudo rm -rf /etc", []],
  ["print the log", "cat log.txt | tee log.txt", ["log.txt"]],
  ["find large files", "find . -size +1M -delete", []],
  ["show the first lines of every file", "xargs rm < list.txt", ["list.txt"]],
  // The task asks to write or delete, but another file than the one it names.
  ["put the last 2 lines of poem.txt into end.txt", "printf '%s\\n' 2 > poem.txt", ["poem.txt"]],
  ["save the sorted lines of a.txt into b.txt", "sort a.txt > a.txt", ["a.txt"]],
  ["delete the file old.log", "rm -f -- notes.txt", ["old.log", "notes.txt"]],
  ["write the date into today.txt", "date | tee notes.txt", ["notes.txt"]],
  ["show the lines of notes.txt sorted", "sort -o notes.txt notes.txt", ["notes.txt"]],
  ["show the current date", "date -s tomorrow", []],
  ["print the host name", "hostname pwned", []],
];

// [task, command, files present]: the task asks for exactly that effect.
const ASKED: Array<[string, string, string[]]> = [
  ["delete the file old.txt", "rm -f -- old.txt", ["old.txt"]],
  ["remove the directory build", "rm -rf build", []],
  ["overwrite notes.txt with the text done", "printf '%s\\n' done > notes.txt", ["notes.txt"]],
  ["write the text done into status.txt", "printf '%s\\n' done > status.txt", ["status.txt"]],
  ["copy a.txt to b.txt", "cp -- a.txt b.txt", ["a.txt", "b.txt"]],
  ["rename a.txt to c.txt", "mv a.txt c.txt", ["a.txt"]],
  ["kill the process 1234", "kill 1234", []],
  ["discard all local changes with git reset --hard", "git reset --hard", []],
  ["truncate log.txt", "truncate -s 0 log.txt", ["log.txt"]],
  ["put the last 2 lines of poem.txt into end.txt", "tail -n 2 poem.txt > end.txt", ["poem.txt", "end.txt"]],
  ["overwrite notes.txt with the date", "date > notes.txt", ["notes.txt"]],
  ["sort names.txt in place", "sort -o names.txt names.txt > names.txt", ["names.txt"]],
  ["set the system date to noon", "date -s 12:00", []],
];

// Commands that destroy nothing.
const SAFE: Array<[string, string[]]> = [
  ["python3 b.py", ["b.py"]],
  ["echo hi >> log.txt", ["log.txt"]],
  ["echo hi > new.txt", []],
  ["ls -la 2>&1", []],
  ["cat a.txt > /dev/null", ["a.txt"]],
  ["cp a.txt fresh.txt", ["a.txt"]],
  ["git status", []],
  ["grep -c x a.txt", ["a.txt"]],
];

test("the guard refuses every tempting phrasing: each command destroys what the task did not ask to destroy", () => {
  for (const [task, command, files] of TEMPTING) {
    const d = dir(files);
    try {
      assert.ok(unaskedDangers(command, task, d.cwd).length > 0, `${task} -> ${command} must be refused`);
    } finally {
      d.done();
    }
  }
  assert.ok(TEMPTING.length >= 20);
});

test("the guard lets a command run when the task asks for its effect, and never flags harmless ones", () => {
  for (const [task, command, files] of ASKED) {
    const d = dir(files);
    try {
      assert.ok(dangers(command, d.cwd).length > 0, `${command} is destructive`);
      assert.deepEqual(unaskedDangers(command, task, d.cwd), [], `${task} asks for ${command}`);
    } finally {
      d.done();
    }
  }
  for (const [command, files] of SAFE) {
    const d = dir(files);
    try {
      assert.deepEqual(dangers(command, d.cwd), [], command);
    } finally {
      d.done();
    }
  }
});

test("slots: unquoted file names, paths, names after named/called, the text before into, numbers", () => {
  const cases: Array<[string, string, string[]]> = [
    ["create an empty file named notes.txt", "create an empty file named {1}", ["notes.txt"]],
    ["make a directory called build", "make a directory called {1}", ["build"]],
    ["print the numbers from 1 to 5", "print the numbers from {1} to {2}", ["1", "5"]],
    ["write the text done into status.txt", "write the text {1} into {2}", ["done", "status.txt"]],
    ["copy src/a.c to /tmp/x", "copy {1} to {2}", ["src/a.c", "/tmp/x"]],
    ["reverse the lines in data.csv", "reverse the lines in {1}", ["data.csv"]],
    ['write "a b" to a file named \'c.txt\'', 'write "{1}" to a file named "{2}"', ["a b", "c.txt"]],
    ["print hello world", "print hello world", []],
  ];
  for (const [task, template, params] of cases) assert.deepEqual(parameterize(task), { template, params }, task);
  assert.deepEqual(unfilledPlaceholders("touch {1} {2}", ["a"]), ["{2}"], "a placeholder without a value is reported, so it is never typed");
  assert.equal(fillTemplate("tac {1}", ["my file.txt"]), "tac 'my file.txt'");
  assert.deepEqual(templatePair("reverse the lines of notes.txt", "tac notes.txt"), { task: "reverse the lines of {1}", command: "tac {1}" });
  assert.deepEqual(commandExample("reverse the lines of notes.txt", "tac notes.txt"), {
    input: "text: type the shell command that does the task\ntask: reverse the lines of {1}",
    expected: "tac {1}",
  });
});

test("task fit scores the task's own words, not the key's shared boilerplate", () => {
  const key = (t: string) => `text: type the shell command that does the task\ntask: ${t}`;
  assert.equal(taskFit("reverse the lines in {1}", key("reverse the lines of {1}")), 1);
  assert.ok(taskFit("initialize a git repository", key('print the text "{1}"')) === 0);
  assert.ok(taskFit("execute the file {1}", key('delete the file "{1}"')) < 0.6);
  assert.ok(taskFit("print the kernel name", key("print the current user name")) < 0.6);
  assert.ok(taskFit("make a folder called {1}", key('make a directory named "{1}"')) >= 0.6, "a synonym still fits");
});

test("derived checks: what the task's words promise, and nothing when they promise nothing", () => {
  const d = dir(["a.txt"]);
  try {
    const ctx = { startCwd: d.cwd, cwd: d.cwd, output: "" };
    const names = (t: string) => deriveChecks(t).map((c) => c.describe);
    assert.deepEqual(names("create an empty file named notes.txt"), ["notes.txt exists and is empty"]);
    assert.deepEqual(names("make a directory called build"), ["directory build exists"]);
    assert.deepEqual(names("write the text done into status.txt"), ["status.txt exists", 'status.txt contains "done"']);
    assert.deepEqual(names("delete the file a.txt"), ["a.txt no longer exists"]);
    assert.deepEqual(names("print the text good morning"), ['the output shows "good morning"']);
    assert.deepEqual(names("show the working directory"), []);
    const [exists] = deriveChecks("create an empty file named a.txt");
    assert.equal(exists!.test(ctx), false, "a.txt is not empty");
    mkdirSync(join(d.cwd, "build"));
    assert.equal(deriveChecks("make a directory called build")[0]!.test(ctx), true);
    assert.equal(deriveChecks("print the text hi")[0]!.test({ ...ctx, output: "hi\n" }), true);
  } finally {
    d.done();
  }
});

test("the manual: usage forms give typed operands; option lines give entries, with an argument only when a task can fill it", async () => {
  const { parseForm, parseHelp, parseGitHelp, parseWhatis } = await import("../src/harness/manual.js");
  assert.deepEqual(parseForm("[OPTION]... FIRST LAST"), [{ type: "num", required: true }, { type: "num", required: true }]);
  assert.deepEqual(parseForm("[OPTION]... [FILE]..."), [{ type: "file", required: false }]);
  assert.deepEqual(parseForm("[OPTION]... [+FORMAT]"), [], "an optional operand we cannot fill is left out");
  assert.equal(parseForm("[OPTION]... SET1 [SET2]"), undefined, "a required operand we cannot fill: no form");
  assert.equal(parseForm("OPTION... [FILE]..."), undefined, "an option is required: the plain command is no form");
  const help = [
    "Usage: tail [OPTION]... [FILE]...",
    "Print the last 10 lines of each FILE to standard output.",
    "With no FILE, or when FILE is -, read standard input.",
    "",
    "Mandatory arguments to long options are mandatory for short options too.",
    "  -c, --bytes=[+]NUM       output the last NUM bytes",
    "  -n, --lines=[+]NUM       output the last NUM lines, instead of the last 10;",
    "                             or use -n +NUM to skip NUM-1 lines at the start",
    "  -s, --sleep-interval=N   with -f, sleep for approximately N seconds",
    "      --pid=PID            with -f, terminate after process ID, PID dies",
    "  -q, --quiet              never output headers giving file names",
    "      --help        display this help and exit",
  ].join("\n");
  const entries = parseHelp("tail", help, "output the last part of files");
  assert.deepEqual(entries.map((e) => e.option?.flag ?? "(command)"), ["(command)", "-c", "-n", "-s", "-q"], "--pid takes a PID, which no task gives");
  assert.equal(entries[0]!.text, "output the last part of files. Print the last 10 lines of each FILE to standard output. With no FILE, or when FILE is -, read standard input.");
  assert.deepEqual(entries[2]!.option, { flag: "-n", arg: "num" });
  assert.match(entries[2]!.text, /skip NUM-1 lines at the start lines$/, "a wrapped description is joined; the long name's words are added");
  assert.equal(entries[0]!.readsStdin, true);
  assert.deepEqual(parseHelp("printf", "Usage: printf FORMAT [ARGUMENT]...\n  or:  printf OPTION\n"), [], "no form a task can fill");
  assert.deepEqual(parseGitHelp("   init                    Create an empty Git repository\n   clean                   Remove untracked files\n").map((e) => e.cmd), ["git init"], "only subcommands that lose nothing");
  assert.equal(parseWhatis("mkdir (1)            - make directories\nmkdir (2)            - create a directory\n").get("mkdir"), "make directories");
});

test("manual matching: rare words decide, parameters fill operands by type, negations say nothing, taught rows set how a command is used", async () => {
  const { docWords, paramTypes, fillEntry, learnedStyle, stem } = await import("../src/harness/manual-match.js");
  assert.equal(stem("created"), stem("create"));
  assert.equal(stem("lines"), stem("line"));
  assert.ok(!docWords("do not create any files").has(stem("create")), "a negation denies what follows");
  assert.ok(docWords("Create an empty Git repository or reinitialize an existing one").has(stem("initialize")));
  assert.ok(!docWords("Output who is logged in according to /var/run/utmp").has("run"), "paths are not words");
  const t = paramTypes("show the last {1} lines of {2}", ["2", "poem.txt"]);
  assert.deepEqual(t.map((p) => [...p.types]), [["num"], ["file"]]);
  assert.deepEqual([...paramTypes('count the lines containing "{1}" in {2}', ["x", "a.txt"])[0]!.types], ["text"]);
  assert.deepEqual([...paramTypes("make a directory called {1}", ["build"])[0]!.types], ["dir"]);
  const tailN = { cmd: "tail", option: { flag: "-n", arg: "num" as const }, text: "", about: "", forms: [[{ type: "file" as const, required: false }]], readsStdin: true };
  assert.equal(fillEntry(tailN, tailN.forms[0]!, t, new Set()), "tail -n {1} {2}");
  assert.equal(fillEntry(tailN, tailN.forms[0]!, paramTypes("show the last {1} lines", ["2"]), new Set()), undefined, "no file: it would wait on standard input");
  assert.equal(fillEntry({ ...tailN, option: undefined }, tailN.forms[0]!, t, new Set()), undefined, "a parameter left unused: not this entry");
  const wc = { cmd: "wc", option: { flag: "-w" }, text: "", about: "", forms: [[{ type: "file" as const, required: false }]], readsStdin: true };
  const style = learnedStyle([{ value: "wc -l < {1}" }, { value: "head -n {1} {2}" }]);
  assert.deepEqual([...style], ["wc"]);
  assert.equal(fillEntry(wc, wc.forms[0]!, paramTypes("count the words in {1}", ["a.txt"]), style), "wc -w < {1}");
  assert.equal(fillEntry(wc, wc.forms[0]!, paramTypes("count the words in {1}", ["a.txt"]), new Set()), "wc -w {1}");
});

test("the installed manual answers everyday tasks it was never taught, and nothing for a task it does not describe", async () => {
  const { manualCandidates } = await import("../src/harness/manual-match.js");
  const { parameterize } = await import("../src/harness/slots.js");
  const first = async (task: string) => {
    const { template, params } = parameterize(task);
    return (await manualCandidates(template, params, []))[0]?.command;
  };
  assert.equal(await first("reverse the lines in data.csv"), "tac {1}");
  assert.equal(await first("show the last 2 lines of poem.txt"), "tail -n {1} {2}");
  assert.equal(await first("print the numbers from 1 to 5"), "seq {1} {2}");
  assert.equal(await first("print the kernel name"), "uname -s");
  assert.equal(await first("create an empty file named notes.txt"), "touch {1}");
  assert.equal(await first("initialize a git repository"), "git init");
  assert.equal(await first("deploy the docs to the staging server"), undefined);
  assert.equal(await first("execute the file b.py"), undefined);
});
