import { assert, describe, it } from "@effect/vitest"
import { canParticipate, isAdmin } from "../../src/domain/Permissions.ts"

describe("Permissions", () => {
  it("isAdmin - only listed ids", () => {
    const admins = [10, 20]
    assert.isTrue(isAdmin(admins, 10))
    assert.isTrue(isAdmin(admins, 20))
    assert.isFalse(isAdmin(admins, 30))
    assert.isFalse(isAdmin([], 10))
  })

  it("canParticipate - blocked users cannot", () => {
    assert.isTrue(canParticipate({ blocked: false }))
    assert.isFalse(canParticipate({ blocked: true }))
  })
})
