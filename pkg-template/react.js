// edge-telemetry/react: an error boundary that reports render errors to Rollbar (with the
// component stack), linked to the active span, and renders a fallback. React is an
// optional peer dependency: only this entry point imports it.
import { Component, createElement } from 'react';
import { __reportRenderError } from './index.js';

/**
 * Props: `fallback` (a node, or `({ error, componentStack, resetError }) => node`),
 * `onError(error, componentStack, uuid)`, `children`.
 */
export class ErrorBoundary extends Component {
  constructor(props) {
    super(props);
    this.state = { error: null, componentStack: '' };
    this.resetError = () => this.setState({ error: null, componentStack: '' });
  }

  static getDerivedStateFromError(error) {
    return { error };
  }

  componentDidCatch(error, info) {
    const componentStack = (info && info.componentStack) || '';
    const uuid = __reportRenderError(error, componentStack);
    this.setState({ componentStack });
    if (typeof this.props.onError === 'function') this.props.onError(error, componentStack, uuid);
  }

  render() {
    const { error, componentStack } = this.state;
    if (error === null) return this.props.children;
    const { fallback } = this.props;
    if (typeof fallback === 'function') return fallback({ error, componentStack, resetError: this.resetError });
    return fallback === undefined ? null : fallback;
  }
}

/** Wraps a component in an ErrorBoundary. */
export function withErrorBoundary(WrappedComponent, boundaryProps) {
  const Wrapped = (props) => createElement(ErrorBoundary, boundaryProps, createElement(WrappedComponent, props));
  Wrapped.displayName = `withErrorBoundary(${WrappedComponent.displayName || WrappedComponent.name || 'Component'})`;
  return Wrapped;
}
