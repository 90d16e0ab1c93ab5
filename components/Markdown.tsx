'use client';
import ReactMarkdown from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { CodeBlock } from './CodeBlock';

/**
 * Assignment markdown. Fenced blocks get a copy control; blocks fenced as
 * ```run (or ```bash run) also get a run control that types them into the
 * active terminal.
 */
export function Markdown({ source }: { source: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        components={{
          // The page has its own h1 (the challenge title): headings in the markdown sit one level below it.
          h1: ({ children }) => <h2>{children}</h2>,
          h2: ({ children }) => <h3>{children}</h3>,
          h3: ({ children }) => <h4>{children}</h4>,
          pre: ({ children }) => <>{children}</>,
          code: ({ className, children, node }) => {
            const text = String(children ?? '').replace(/\n$/, '');
            const lang = /language-([\w-]+)/.exec(className ?? '')?.[1];
            const meta = (node?.data as { meta?: string } | undefined)?.meta ?? '';
            const isBlock = !!lang || text.includes('\n') || node?.position?.start.line !== node?.position?.end.line;
            if (!isBlock) return <code>{children}</code>;
            return <CodeBlock code={text} language={lang === 'run' ? 'bash' : lang} runnable={lang === 'run' || /\brun\b/.test(meta)} />;
          },
        }}
      >
        {source}
      </ReactMarkdown>
    </div>
  );
}
