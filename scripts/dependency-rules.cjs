// The direction of imports (STYLE.md), checked by dependency-cruiser in `npm run check`:
//   domain ← sql ← services ← updates ← features / views ← App ← main
// plus: views import only domain and views; features never touch SQL; nothing imports upwards; no circle anywhere.
// AppConfig and Logging are the configuration beneath everything but the pure layers.
/** Everything under src/ except the listed folders (and files at src/ level given as names). */
const srcExcept = (...allowed) => `^src/(?!(${allowed.join("|")})(/|\\.ts$))`

const layer = (name, from, ...allowed) => ({
  name,
  severity: "error",
  comment: `${from} may import only ${allowed.join(", ")}`,
  from: { path: `^src/${from}/` },
  to: { path: srcExcept(from, ...allowed) }
})

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "no import circles", from: {}, to: { circular: true } },
    layer("domain-is-pure", "domain"),
    {
      name: "domain-has-no-io",
      severity: "error",
      comment: "domain is pure: no Node built-ins",
      from: { path: "^src/domain/" },
      to: { dependencyTypes: ["core"] }
    },
    layer("emulator-stands-alone", "emulator", "domain"),
    {
      name: "only-the-playground-uses-the-emulator",
      severity: "error",
      comment: "the bot talks to Telegram through its client; only the playground (and tests, scripts) starts the emulator",
      from: { path: "^src/", pathNot: "^src/(emulator|playground)/" },
      to: { path: "^src/emulator/" }
    },
    layer("sql-below-services", "sql", "domain", "AppConfig"),
    layer("services-below-updates", "services", "domain", "sql", "AppConfig"),
    layer("updates-below-features", "updates", "domain", "sql", "services", "AppConfig"),
    layer("http-beside-updates", "http", "domain", "sql", "services", "updates", "AppConfig"),
    layer("views-import-only-domain", "views", "domain"),
    layer("features-use-services-and-views", "features", "domain", "services", "updates", "views", "AppConfig"),
    {
      name: "features-are-independent",
      severity: "error",
      comment: "a feature never imports another feature",
      from: { path: "^src/features/([^/]+)\\.ts$" },
      to: { path: "^src/features/", pathNot: "^src/features/$1\\.ts$" }
    },
    {
      name: "config-is-the-bottom",
      severity: "error",
      comment: "AppConfig and Logging import nothing of the program but the pure domain (to parse settings)",
      from: { path: "^src/(AppConfig|Logging)\\.ts$" },
      to: { path: srcExcept("AppConfig", "domain") }
    },
    {
      name: "only-main-and-compositions-import-App",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(main|playground/.*)\\.ts$" },
      to: { path: "^src/App\\.ts$" }
    },
    {
      name: "src-never-imports-tests-or-scripts",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|scripts)/" }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    parser: "swc",
    tsPreCompilationDeps: false,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] }
  }
}
