-- AlterTable
ALTER TABLE "Session" ADD COLUMN "hosts" TEXT NOT NULL DEFAULT '{}';
