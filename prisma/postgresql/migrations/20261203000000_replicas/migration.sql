-- AlterTable
ALTER TABLE "Session" ADD COLUMN     "provisionJob" TEXT,
ADD COLUMN     "replicaId" TEXT;

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Setting_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "Replica" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "url" TEXT NOT NULL DEFAULT '',
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Replica_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TerminalHolder" (
    "sessionId" TEXT NOT NULL,
    "tab" TEXT NOT NULL,
    "replicaId" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TerminalHolder_pkey" PRIMARY KEY ("sessionId","tab")
);

-- CreateTable
CREATE TABLE "TerminalToken" (
    "hash" TEXT NOT NULL,
    "claims" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TerminalToken_pkey" PRIMARY KEY ("hash")
);

-- CreateIndex
CREATE INDEX "TerminalToken_expiresAt_idx" ON "TerminalToken"("expiresAt");
