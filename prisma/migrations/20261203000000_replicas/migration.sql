-- AlterTable
ALTER TABLE "Session" ADD COLUMN "provisionJob" TEXT;
ALTER TABLE "Session" ADD COLUMN "replicaId" TEXT;

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Replica" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "url" TEXT NOT NULL DEFAULT '',
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seenAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "TerminalHolder" (
    "sessionId" TEXT NOT NULL,
    "tab" TEXT NOT NULL,
    "replicaId" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL,

    PRIMARY KEY ("sessionId", "tab")
);

-- CreateTable
CREATE TABLE "TerminalToken" (
    "hash" TEXT NOT NULL PRIMARY KEY,
    "claims" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "TerminalToken_expiresAt_idx" ON "TerminalToken"("expiresAt");
