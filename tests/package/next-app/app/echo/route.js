// Answers with the traceparent header the request carried (null without one).
export const dynamic = 'force-dynamic';

export function GET(request) {
  return Response.json({ traceparent: request.headers.get('traceparent') }, { headers: { 'cache-control': 'no-store' } });
}
