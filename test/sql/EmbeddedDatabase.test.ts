// The embedded database answers this process only: no TCP port, a Unix socket in a 0700 directory that another local
// user cannot connect to, and a DATA_DIR other users cannot read.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Database from "../../src/sql/Database.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

/** Inodes of the sockets this process holds open. */
const ownSocketInodes = Effect.promise(async () => {
  const inodes = new Set<string>()
  for (const fd of await Fs.readdir("/proc/self/fd")) {
    const target = await Fs.readlink(`/proc/self/fd/${fd}`).catch(() => "")
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1]
    if (inode !== undefined) inodes.add(inode)
  }
  return inodes
})

/** TCP sockets of this process in LISTEN state (IPv4 and IPv6), by inode. */
const ownTcpListeners = Effect.gen(function* () {
  const own = yield* ownSocketInodes
  const tables = yield* Effect.promise(() =>
    Promise.all(["/proc/net/tcp", "/proc/net/tcp6"].map((file) => Fs.readFile(file, "utf8").catch(() => "")))
  )
  return tables
    .flatMap((table) => table.split("\n").slice(1))
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === "0A" && own.has(fields[9] ?? ""))
    .map((fields) => fields[9] ?? "")
    .sort()
})

/** Paths of the Unix sockets this process listens on. */
const ownUnixListeners = Effect.gen(function* () {
  const own = yield* ownSocketInodes
  const table = yield* Effect.promise(() => Fs.readFile("/proc/net/unix", "utf8"))
  return table
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    // Flags 00010000 = accepting connections; column 7 is the path.
    .filter((fields) => fields[3] === "00010000" && own.has(fields[6] ?? "") && fields[7] !== undefined)
    .map((fields) => fields[7] ?? "")
})

/**
 * Tries to connect to a Unix socket from a child process running as `nobody`, the stand-in for another local user.
 * Perl, because it is installed system-wide (the Node binary of the tests may sit in root's home, closed to others).
 */
const connectAsNobody = (socketPath: string) => {
  const child = spawnSync(
    "/usr/bin/perl",
    ["-MIO::Socket::UNIX", "-e", 'IO::Socket::UNIX->new(Peer => $ARGV[0]) or do { print "refused: $!"; exit 3 }; print "connected"', socketPath],
    { uid: 65_534, gid: 65_534, encoding: "utf8", timeout: 10_000 }
  )
  return child.stdout
}

const isRoot = process.getuid?.() === 0

describe("EmbeddedDatabase", () => {
  it.live("layer - no TCP port, one Unix socket in a private directory, removed on close", () =>
    Effect.gen(function* () {
      const before = yield* ownTcpListeners
      const socketsBefore = yield* ownUnixListeners
      const socketPath = yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        assert.deepStrictEqual(yield* sql<{ one: number }>`select 1 as one`, [{ one: 1 }])
        assert.deepStrictEqual(yield* ownTcpListeners, before, "the embedded database opened a TCP port")
        const added = (yield* ownUnixListeners).filter((path) => !socketsBefore.includes(path))
        assert.strictEqual(added.length, 1, `new Unix sockets: ${added.join(", ")}`)
        const [path = ""] = added
        assert.strictEqual(Path.basename(path), Database.embeddedSocketName)
        const directory = yield* Effect.promise(() => Fs.stat(Path.dirname(path)))
        assert.strictEqual(directory.mode & 0o777, 0o700)
        assert.strictEqual(directory.uid, process.getuid?.())
        return path
      }).pipe(Effect.provide(Database.layer(TestDatabase.pgliteOptions)))
      const gone = yield* Effect.promise(() => Fs.stat(Path.dirname(socketPath)).then(() => false, () => true))
      assert.isTrue(gone, "the socket directory outlived the database")
    }), { timeout: 120_000 })

  // Root passes every permission check, so the attempt runs as `nobody`; only root may start a process as another user.
  it.live.runIf(isRoot)("layer - another local user cannot connect, though it could to an open socket", () =>
    Effect.gen(function* () {
      // The control: the same child does reach a socket whose directory and file are open to everyone.
      const open = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "confessions-open-"))
          await Fs.chmod(dir, 0o777)
          const path = Path.join(dir, "socket")
          const server = Net.createServer((socket) => socket.end())
          await new Promise<void>((resolve) => server.listen(path, resolve))
          await Fs.chmod(path, 0o777)
          return { dir, path, server }
        }),
        ({ dir, server }) =>
          Effect.promise(async () => {
            await new Promise<void>((resolve) => server.close(() => resolve()))
            await Fs.rm(dir, { recursive: true, force: true })
          })
      )
      assert.strictEqual(connectAsNobody(open.path), "connected")

      const before = yield* ownUnixListeners
      yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`select 1`
        const [path = ""] = (yield* ownUnixListeners).filter((p) => !before.includes(p))
        assert.strictEqual(connectAsNobody(path), "refused: Permission denied")
      }).pipe(Effect.provide(Database.layer(TestDatabase.pgliteOptions)))
    }), { timeout: 120_000 })

  it.live("layer - DATA_DIR is closed to other users, even one created open", () =>
    Effect.gen(function* () {
      const dataDir = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "confessions-data-"))
          await Fs.chmod(dir, 0o755)
          return dir
        }),
        (dir) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
      )
      yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`insert into users (id, first_name) values (1, 'Ann')`
      }).pipe(Effect.provide(Database.layer({ ...TestDatabase.pgliteOptions, dataDir })))
      const stat = yield* Effect.promise(() => Fs.stat(dataDir))
      assert.strictEqual(stat.mode & 0o777, 0o700)
      // What the mode protects: PGlite's files themselves are world-readable.
      const version = yield* Effect.promise(() => Fs.stat(Path.join(dataDir, "PG_VERSION")))
      assert.notStrictEqual(version.mode & 0o004, 0)
    }), { timeout: 120_000 })
})
