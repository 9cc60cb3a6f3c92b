// The OTLP/HTTP traces endpoint of init({ endpoint: '/sink' }): accepts every export, as a
// same-origin relay would, and answers OTLP's empty success.
export const dynamic = 'force-dynamic';

export async function POST(request) {
  await request.arrayBuffer();
  return new Response('{}', { headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}
