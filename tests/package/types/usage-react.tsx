// Type-checked with the package's react.d.ts (never run): the ErrorBoundary and
// withErrorBoundary as an app uses them.
import { ErrorBoundary, withErrorBoundary } from 'edge-telemetry/react';
import type { ErrorBoundaryProps, FallbackProps } from 'edge-telemetry/react';

function Checkout(props: { cartId: string }) {
  return <p>{props.cartId}</p>;
}

const props: ErrorBoundaryProps = {
  fallback: ({ error, componentStack, resetError }: FallbackProps) => (
    <button type="button" onClick={resetError} title={componentStack}>
      {String(error)}
    </button>
  ),
  onError(error: unknown, componentStack: string, uuid: string | undefined) {
    void error;
    void componentStack;
    void uuid;
  },
};

export function App() {
  return (
    <ErrorBoundary {...props}>
      <Checkout cartId="c-1" />
    </ErrorBoundary>
  );
}

export const Safe = withErrorBoundary(Checkout, { fallback: <p>failed</p> });
export const element = <Safe cartId="c-2" />;

// @ts-expect-error the wrapped component keeps its props
export const wrong = <Safe cart="c-3" />;
