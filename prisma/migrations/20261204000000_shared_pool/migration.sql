-- CreateTable
CREATE TABLE "PoolMember" (
    "owner" TEXT NOT NULL PRIMARY KEY,
    "lab" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "replicaId" TEXT NOT NULL,
    "environment" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "readyAt" DATETIME,
    "claimedAt" DATETIME
);

-- CreateIndex
CREATE INDEX "PoolMember_lab_state_idx" ON "PoolMember"("lab", "state");

