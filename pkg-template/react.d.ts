import type { Component, ComponentType, ReactNode } from 'react';

/** What a function `fallback` receives. */
export interface FallbackProps {
  error: unknown;
  /** React's component stack of the render error. */
  componentStack: string;
  /** Clears the error and renders the children again. */
  resetError(): void;
}

export interface ErrorBoundaryProps {
  /** Rendered instead of the children after a render error (default: nothing). */
  fallback?: ReactNode | ((props: FallbackProps) => ReactNode);
  /** Called after the error is reported; `uuid` is the Rollbar item's, when one is sent. */
  onError?(error: unknown, componentStack: string, uuid: string | undefined): void;
  children?: ReactNode;
}

/**
 * Reports render errors of its children to Rollbar (with the component stack, linked to the
 * active span) and renders `fallback`.
 */
export class ErrorBoundary extends Component<ErrorBoundaryProps, { error: unknown; componentStack: string }> {}

/** Wraps a component in an ErrorBoundary. */
export function withErrorBoundary<P extends object>(
  component: ComponentType<P>,
  boundaryProps?: ErrorBoundaryProps,
): ComponentType<P>;
