import { assert, describe, it } from "@effect/vitest"
import * as PersonalData from "../../src/domain/PersonalData.ts"

const t = (iso: string) => new Date(iso)

const data: PersonalData.PersonalExport = {
  profile: {
    telegramId: 42,
    firstName: "Ann",
    lastName: null,
    username: "ann_a",
    anonymousDefault: false,
    blocked: true,
    inactive: false,
    createdAt: t("2026-01-01T10:00:00.000Z"),
    lastSeenAt: t("2026-02-01T10:00:00.000Z")
  },
  confessions: [
    {
      id: 7,
      status: "rejected",
      text: "a <b>text</b>",
      mediaKind: "voice",
      mediaFileId: "voice-file-1",
      mediaDuration: 12,
      anonymous: true,
      channelMessageId: null,
      rejectReason: "too personal",
      createdAt: t("2026-01-02T00:00:00.000Z"),
      decidedAt: t("2026-01-03T00:00:00.000Z")
    }
  ],
  comments: [
    {
      id: 9,
      confessionId: 8,
      parentId: 5,
      text: "me too",
      hidden: true,
      likes: 3,
      dislikes: 1,
      reports: 2,
      replies: 0,
      createdAt: t("2026-01-04T00:00:00.000Z")
    }
  ],
  reactions: [{ commentId: 5, kind: "like", createdAt: t("2026-01-05T00:00:00.000Z") }],
  reports: [{ commentId: 6, createdAt: t("2026-01-06T00:00:00.000Z") }],
  feedback: [
    {
      id: 3,
      text: "dark mode?",
      status: "resolved",
      adminNote: "soon",
      resolvedAt: t("2026-01-08T00:00:00.000Z"),
      createdAt: t("2026-01-07T00:00:00.000Z")
    }
  ]
}

describe("PersonalData", () => {
  it("toDocument - every field, times in ISO UTC, in reading order", () => {
    const doc = PersonalData.toDocument(data, t("2026-03-01T12:30:00.000Z"))
    assert.deepStrictEqual(doc, {
      exportedAt: "2026-03-01T12:30:00.000Z",
      profile: {
        telegramId: 42,
        firstName: "Ann",
        lastName: null,
        username: "ann_a",
        registeredAt: "2026-01-01T10:00:00.000Z",
        lastSeenAt: "2026-02-01T10:00:00.000Z"
      },
      settings: { anonymousByDefault: false, blocked: true, inactive: false },
      confessions: [
        {
          id: 7,
          status: "rejected",
          text: "a <b>text</b>",
          media: { kind: "voice", fileId: "voice-file-1", durationSeconds: 12 },
          anonymous: true,
          createdAt: "2026-01-02T00:00:00.000Z",
          decidedAt: "2026-01-03T00:00:00.000Z",
          rejectReason: "too personal",
          channelMessageId: null
        }
      ],
      comments: [
        {
          id: 9,
          confessionId: 8,
          replyTo: 5,
          text: "me too",
          hidden: true,
          likes: 3,
          dislikes: 1,
          reports: 2,
          replies: 0,
          createdAt: "2026-01-04T00:00:00.000Z"
        }
      ],
      reactions: [{ commentId: 5, kind: "like", createdAt: "2026-01-05T00:00:00.000Z" }],
      reports: [{ commentId: 6, createdAt: "2026-01-06T00:00:00.000Z" }],
      feedback: [
        {
          id: 3,
          text: "dark mode?",
          status: "resolved",
          adminAnswer: "soon",
          resolvedAt: "2026-01-08T00:00:00.000Z",
          createdAt: "2026-01-07T00:00:00.000Z"
        }
      ]
    })
    assert.deepStrictEqual(Object.keys(doc), [
      "exportedAt", "profile", "settings", "confessions", "comments", "reactions", "reports", "feedback"
    ])
  })

  it("toDocument - an empty history is empty lists, never missing keys", () => {
    const doc = PersonalData.toDocument(
      { ...data, confessions: [], comments: [], reactions: [], reports: [], feedback: [] },
      t("2026-03-01T00:00:00.000Z")
    )
    assert.deepStrictEqual([doc.confessions, doc.comments, doc.reactions, doc.reports, doc.feedback], [[], [], [], [], []])
  })
})
