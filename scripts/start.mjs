// `npm start` and `npm run playground`: checks the Node version before anything else is loaded (an older Node fails
// on the first `.ts` import with a stack trace), then runs src/main.ts. Plain JavaScript that every Node can read.
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  console.error(
    `confessions-bot needs Node.js 22.19 or newer, and this is Node.js ${process.versions.node}: ` +
      "install a current Node.js 22 or 24 (https://nodejs.org, or `nvm install 22`), then run `npm install` and `npm start` again."
  )
  process.exit(1)
}
import("../src/main.ts")
