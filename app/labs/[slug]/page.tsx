import { notFound } from 'next/navigation';
import { runtime } from '@/lib/runtime';
import { Markdown } from '@/components/Markdown';
import { StartButton } from '@/components/StartButton';

export const dynamic = 'force-dynamic';

export default async function LabPage({ params }: { params: Promise<{ slug: string }> }) {
  const lab = runtime().catalog.get((await params).slug);
  if (!lab) notFound();
  const { track } = lab;
  return (
    <main className="lab-page">
      <div className="lab-intro">
        <p className="eyebrow">
          {track.environment.driver === 'kind' ? 'Kubernetes lab' : 'Linux lab'} · {track.level} · {Math.round(track.timelimit / 60)} min
        </p>
        <h1>{track.title}</h1>
        <p className="teaser">{track.teaser}</p>
        <StartButton lab={track.slug} />
        <Markdown source={track.description} />
      </div>
      <aside className="lab-outline" aria-label="Challenges">
        <h2>Challenges</h2>
        <ol>
          {lab.challenges.map((c) => (
            <li key={c.slug}>
              <strong>{c.title}</strong>
              {c.teaser && <span>{c.teaser}</span>}
            </li>
          ))}
        </ol>
      </aside>
    </main>
  );
}
