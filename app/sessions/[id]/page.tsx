import { notFound } from 'next/navigation';
import { SessionView } from '@/components/SessionView';
import { SessionIdSchema } from '@/lib/http/api/requests';

export const dynamic = 'force-dynamic';

export default async function SessionPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { id } = await params;
  if (!SessionIdSchema.safeParse(id).success) notFound();
  // ?a11y=1: terminals in screen-reader mode (their text in the DOM), for people and for tests.
  return <SessionView id={id} a11y={(await searchParams).a11y === '1'} />;
}
