import Link from 'next/link';
import { runtime } from '@/lib/runtime';

export const dynamic = 'force-dynamic';

export default function Catalog() {
  const labs = runtime().catalog.list();
  return (
    <main className="catalog">
      <section className="hero">
        <h1>Learn by doing</h1>
        <p>Every lab gives you your own live environment, real terminals and a checker that tells you exactly what is left.</p>
      </section>
      {labs.length === 0 && <p className="empty">No labs installed. Put a lab folder in labs/ and restart.</p>}
      <ul className="cards" aria-label="Labs">
        {labs.map((lab) => (
          <li key={lab.track.slug}>
            <article className="card">
              <span className="card-driver">{lab.track.environment.driver === 'kind' ? 'Kubernetes' : 'Docker'}</span>
              <h2>
                <Link className="card-link" href={`/labs/${lab.track.slug}`}>
                  {lab.track.title}
                </Link>
              </h2>
              <p>{lab.track.teaser}</p>
              <span className="card-meta">
                {lab.challenges.length} challenges · {Math.round(lab.track.timelimit / 60)} min · {lab.track.level}
              </span>
            </article>
          </li>
        ))}
      </ul>
    </main>
  );
}
