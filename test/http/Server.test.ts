// The HTTP server binds HTTP_HOST: loopback by default, so /metrics is not served to the network unless asked for.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { HttpServer } from "effect/http"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Server from "../../src/http/Server.ts"
import { BotApiEmulator } from "../../src/emulator/BotApiEmulator.ts"
import * as TestApp from "../support/TestApp.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

/** A non-loopback IPv4 address of this machine, if it has one: what another host would connect to. */
const externalAddress = Object.values(Os.networkInterfaces())
  .flatMap((entries) => entries ?? [])
  .find((entry) => entry.family === "IPv4" && !entry.internal)?.address

/** Whether a TCP connection to host:port is accepted. */
const accepts = (host: string, port: number) =>
  Effect.callback<boolean>((resume) => {
    const socket = Net.connect({ host, port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(true))
    })
    socket.once("error", () => resume(Effect.succeed(false)))
    return Effect.sync(() => socket.destroy())
  })

const listening = (layer: Layer.Layer<HttpServer.HttpServer, unknown>) =>
  Effect.gen(function* () {
    const server = yield* HttpServer.HttpServer
    const url = new URL(HttpServer.formatAddress(server.address))
    return { hostname: url.hostname, port: Number(url.port) }
  }).pipe(Effect.provide(layer))

describe("Server", () => {
  it.live("layer - binds the loopback address unless a host is given", () =>
    Effect.gen(function* () {
      const loopback = yield* listening(Server.layer(Layer.empty, { port: 0 }))
      assert.strictEqual(loopback.hostname, "127.0.0.1")
      const everywhere = yield* listening(Server.layer(Layer.empty, { port: 0, host: "0.0.0.0" }))
      assert.strictEqual(everywhere.hostname, "0.0.0.0")
    }))

  it.live.skipIf(externalAddress === undefined)("layer - another host's address reaches it only when HTTP_HOST opens it", () =>
    Effect.gen(function* () {
      const address = externalAddress ?? "unreachable"
      yield* Effect.scoped(
        Effect.gen(function* () {
          const server = yield* HttpServer.HttpServer
          const port = Number(new URL(HttpServer.formatAddress(server.address)).port)
          assert.isTrue(yield* accepts("127.0.0.1", port))
          assert.isFalse(yield* accepts(address, port), `127.0.0.1-bound server reached through ${address}`)
        }).pipe(Effect.provide(Server.layer(Layer.empty, { port: 0 })))
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          const server = yield* HttpServer.HttpServer
          const port = Number(new URL(HttpServer.formatAddress(server.address)).port)
          assert.isTrue(yield* accepts(address, port))
        }).pipe(Effect.provide(Server.layer(Layer.empty, { port: 0, host: "0.0.0.0" })))
      )
    }))

  it.live("App - the server listens on HTTP_HOST (default 127.0.0.1)", () =>
    Effect.gen(function* () {
      const fake = yield* BotApiEmulator
      const app = (env: Record<string, string>) =>
        TestApp.layer({ features: Layer.empty, env, database: TestDatabase.layer() }).pipe(
          Layer.provide(Layer.succeed(BotApiEmulator, fake))
        )
      assert.strictEqual((yield* listening(app({}))).hostname, "127.0.0.1")
      assert.strictEqual((yield* listening(app({ HTTP_HOST: "0.0.0.0" }))).hostname, "0.0.0.0")
    }).pipe(Effect.provide(BotApiEmulator.layer())), { timeout: 120_000 })
})
