// Composition root: configuration, logging, database and (as features land) the update pipeline and HTTP server.
// End-to-end tests launch this same `layer` against a fake Bot API.
import { Layer } from "effect"
import { AppConfig } from "./AppConfig.ts"
import * as Logging from "./Logging.ts"
import * as Database from "./sql/Database.ts"
import { Users } from "./services/Users.ts"

const infrastructure = Layer.mergeAll(Database.layerConfig, Logging.layerConfig)

export const layer = Users.layer.pipe(Layer.provideMerge(infrastructure), Layer.provide(AppConfig.layerConfig))
