import { notFound } from 'next/navigation';
import { SessionView } from '@/components/SessionView';
import { SessionIdSchema } from '@/lib/api/http';

export const dynamic = 'force-dynamic';

export default async function SessionPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!SessionIdSchema.safeParse(id).success) notFound();
  return <SessionView id={id} />;
}
