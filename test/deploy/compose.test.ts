/**
 * docker-compose.yml as Compose reads it (no Docker Hub here to run it): Labforge on the
 * PostgreSQL service, started once that service is healthy, both with health checks and their
 * data in named volumes, so `docker compose down && up` keeps everything.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

interface Service {
  image?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
}
const compose = parse(fs.readFileSync(path.resolve(__dirname, '../../docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

describe('docker-compose.yml', () => {
  const { labforge, postgres } = compose.services;

  it('runs Labforge on the PostgreSQL service, once it is healthy', () => {
    const url = new URL(labforge.environment!.DATABASE_URL.replace('${POSTGRES_PASSWORD:-labforge}', 'secret'));
    expect(url.protocol).toBe('postgresql:');
    expect(url.hostname).toBe('postgres');
    expect(url.pathname).toBe(`/${postgres.environment!.POSTGRES_DB}`);
    expect(url.username).toBe(postgres.environment!.POSTGRES_USER);
    expect(postgres.environment!.POSTGRES_PASSWORD).toBe('${POSTGRES_PASSWORD:-labforge}');
    expect(labforge.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  });

  it('checks both services’ health and keeps their data in named volumes', () => {
    expect(postgres.healthcheck!.test.join(' ')).toMatch(/pg_isready -U labforge -d labforge/);
    expect(labforge.healthcheck!.test.join(' ')).toMatch(/\/readyz/);
    const named = (s: Service) => (s.volumes ?? []).map((v) => v.split(':')[0]).filter((v) => !v.startsWith('/') && !v.startsWith('.'));
    expect(named(postgres)).toEqual(['postgres-data']);
    expect(named(labforge)).toEqual(['labforge-data']);
    expect(Object.keys(compose.volumes).sort()).toEqual(['labforge-data', 'postgres-data']);
    expect(labforge.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
  });
});
