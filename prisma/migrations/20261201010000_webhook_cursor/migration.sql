-- AlterTable
ALTER TABLE "WebhookDelivery" ADD COLUMN "givenUpAt" DATETIME;

-- CreateTable
CREATE TABLE "WebhookCursor" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "lastEventId" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" DATETIME NOT NULL
);

