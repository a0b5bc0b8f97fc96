// Counts the SQL statements the bot sends to PostgreSQL, at the wire: a TCP proxy on 127.0.0.1 between the bot and
// the server that reads the frontend protocol (it never changes a byte). Every simple `Query` and every extended-
// protocol `Execute` is one statement; transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) is counted
// apart, so "statements per update" can be given with and without it. Independent of the bot's own metrics.
import { Effect } from "effect"
import { type AddressInfo, createConnection, createServer, type Socket } from "node:net"

export interface SqlCounts {
  /** Statements other than transaction control. */
  readonly data: number
  /** BEGIN / COMMIT / ROLLBACK / SAVEPOINT / RELEASE. */
  readonly transactionControl: number
}

export interface SqlCounter {
  readonly host: string
  readonly port: number
  readonly counts: () => SqlCounts
}

const transactionControl = /^\s*(begin|start\s+transaction|commit|end|rollback|abort|savepoint|release)\b/i

/** Starts the proxy in front of `target`; it closes (with every proxied connection) when the scope closes. */
export const make = (target: { readonly host: string; readonly port: number }) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly counter: SqlCounter; readonly close: (done: () => void) => void }>((resume) => {
      const totals = { data: 0, transactionControl: 0 }
      const sockets = new Set<Socket>()
      const server = createServer((client) => {
        const upstream = createConnection(target)
        sockets.add(client)
        sockets.add(upstream)
        const parse = frontendParser((isControl) => {
          if (isControl) totals.transactionControl++
          else totals.data++
        })
        client.on("data", (chunk: Buffer) => {
          parse(chunk)
          upstream.write(chunk)
        })
        upstream.on("data", (chunk: Buffer) => client.write(chunk))
        const closeBoth = () => {
          client.destroy()
          upstream.destroy()
          sockets.delete(client)
          sockets.delete(upstream)
        }
        client.on("close", closeBoth)
        upstream.on("close", closeBoth)
        client.on("error", closeBoth)
        upstream.on("error", closeBoth)
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        resume(
          Effect.succeed({
            counter: { host: "127.0.0.1", port, counts: () => ({ ...totals }) },
            close: (done) => {
              for (const socket of sockets) socket.destroy()
              server.close(() => done())
            }
          })
        )
      })
    }),
    (proxy) => Effect.callback<void>((resume) => proxy.close(() => resume(Effect.void)))
  ).pipe(Effect.map((proxy) => proxy.counter))

/**
 * A streaming parser of frontend messages. Start-up packets (SSLRequest, GSSENCRequest, StartupMessage) have no
 * type byte; everything after the StartupMessage is `type(1) length(4) payload`. Prepared statements are
 * remembered by name so that an `Execute` of a named statement is classified by its text.
 */
const frontendParser = (onStatement: (isTransactionControl: boolean) => void) => {
  let buffer: Buffer = Buffer.alloc(0)
  let startup = true
  const statements = new Map<string, boolean>()
  /** Portal name → whether its statement is transaction control. */
  const portals = new Map<string, boolean>()

  const cString = (data: Buffer, offset: number): [string, number] => {
    const end = data.indexOf(0, offset)
    const stop = end < 0 ? data.length : end
    return [data.toString("utf8", offset, stop), stop + 1]
  }

  const message = (type: number, payload: Buffer) => {
    switch (type) {
      case 0x51: {
        // Query
        const [text] = cString(payload, 0)
        onStatement(transactionControl.test(text))
        return
      }
      case 0x50: {
        // Parse: statement name, query text
        const [name, next] = cString(payload, 0)
        const [text] = cString(payload, next)
        statements.set(name, transactionControl.test(text))
        return
      }
      case 0x42: {
        // Bind: portal name, statement name
        const [portal, next] = cString(payload, 0)
        const [statement] = cString(payload, next)
        portals.set(portal, statements.get(statement) ?? false)
        return
      }
      case 0x45: {
        // Execute: portal name
        const [portal] = cString(payload, 0)
        onStatement(portals.get(portal) ?? false)
        return
      }
      default:
        return
    }
  }

  return (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk])
    let offset = 0
    for (;;) {
      if (startup) {
        if (buffer.length - offset < 8) break
        const length = buffer.readInt32BE(offset)
        if (buffer.length - offset < length) break
        const code = buffer.readInt32BE(offset + 4)
        offset += length
        // 80877103 SSLRequest, 80877104 GSSENCRequest: the real StartupMessage follows.
        if (code !== 80877103 && code !== 80877104) startup = false
        continue
      }
      if (buffer.length - offset < 5) break
      const type = buffer[offset] as number
      const length = buffer.readInt32BE(offset + 1)
      if (buffer.length - offset < 1 + length) break
      message(type, buffer.subarray(offset + 5, offset + 1 + length))
      offset += 1 + length
    }
    buffer = offset === buffer.length ? Buffer.alloc(0) : buffer.subarray(offset)
  }
}
