import { SessionView } from '@/components/SessionView';

export const dynamic = 'force-dynamic';

export default async function SessionPage({ params }: { params: Promise<{ id: string }> }) {
  return <SessionView id={(await params).id} />;
}
