'use client';
import ReactMarkdown from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { CodeBlock } from './CodeBlock';

/**
 * Assignment markdown. Fenced blocks get a copy control; blocks fenced as
 * ```run (or ```bash run) also get a run control that types them into the
 * active terminal.
 */
interface MdNode {
  type: string;
  depth?: number;
  children?: MdNode[];
}

/**
 * The page has its own h1 (the challenge or lab title): the markdown's top heading level, whatever
 * it is (authors start at # or ##), becomes h2 and the rest keeps its steps, so screen readers get
 * an outline without gaps (axe heading-order).
 */
function headingsBelowTitle() {
  return (tree: MdNode) => {
    const headings: MdNode[] = [];
    const walk = (n: MdNode) => {
      if (n.type === 'heading') headings.push(n);
      n.children?.forEach(walk);
    };
    walk(tree);
    const top = Math.min(...headings.map((h) => h.depth ?? 6));
    for (const h of headings) h.depth = Math.min(6, (h.depth ?? 6) - top + 2);
  };
}

export function Markdown({ source }: { source: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={[remarkGfm, headingsBelowTitle]}
        components={{
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
