/**
 * A CSV file streamed a page at a time: the header, then each page's lines as it is read,
 * until a page says there is no next one. Nothing is held but the current page, so an
 * export of 100,000 rows costs one page of memory.
 */
export function pagedCsv<T>(
  header: string,
  readPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
  line: (item: T) => string,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: string | undefined;
  let started = false;
  return new ReadableStream({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(header));
        return;
      }
      const page = await readPage(cursor);
      if (page.items.length > 0) controller.enqueue(encoder.encode(page.items.map(line).join('')));
      if (!page.nextCursor) controller.close();
      else cursor = page.nextCursor;
    },
  });
}
