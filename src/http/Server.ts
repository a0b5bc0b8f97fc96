// The one HTTP server (HTTP_HOST:HTTP_PORT): health, metrics and, in webhook mode, the webhook route. It binds the
// loopback address unless told otherwise, so /metrics and /health are not served to the network by accident; behind
// a reverse proxy on another host, HTTP_HOST=0.0.0.0 opens it.
import { NodeHttpServer } from "@effect/platform-node"
import { Layer } from "effect"
import { HttpRouter } from "effect/http"
import { createServer } from "node:http"

export interface ServerOptions {
  readonly port: number
  /** Address to bind; loopback when omitted. */
  readonly host?: string
}

export const layer = <E, R>(routes: Layer.Layer<never, E, R>, options: ServerOptions) =>
  HttpRouter.serve(routes, { disableLogger: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port, host: options.host ?? "127.0.0.1" }))
  )
