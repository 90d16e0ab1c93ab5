-- AlterTable
ALTER TABLE "Session" ADD COLUMN "extensions" INTEGER NOT NULL DEFAULT 0;
