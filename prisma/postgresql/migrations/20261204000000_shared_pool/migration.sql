-- CreateTable
CREATE TABLE "PoolMember" (
    "owner" TEXT NOT NULL,
    "lab" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "replicaId" TEXT NOT NULL,
    "environment" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "readyAt" TIMESTAMP(3),
    "claimedAt" TIMESTAMP(3),

    CONSTRAINT "PoolMember_pkey" PRIMARY KEY ("owner")
);

-- CreateIndex
CREATE INDEX "PoolMember_lab_state_idx" ON "PoolMember"("lab", "state");

