import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { watchFailureMessage } from './informer.js';

test('a watch answered 404 says the CustomResourceDefinition may be missing; other failures do not', (t) => {
  const notFound = new k8s.ApiException(404, 'Not Found', '404 page not found\n', {});
  t.regex(
    watchFailureMessage('pipelines', '/apis/sextant.dev/v1alpha1/pipelines', notFound),
    /does not serve \/apis\/sextant\.dev\/v1alpha1\/pipelines \(404\); is its CustomResourceDefinition installed\?/,
  );
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  t.is(watchFailureMessage('pipelines', '/apis/sextant.dev/v1alpha1/pipelines', refused), 'watch of pipelines failed; restarting');
});
