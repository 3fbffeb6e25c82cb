// An S3 client that works against org.gaul:s3proxy (test/infra) with current
// @aws-sdk/client-s3. Two adjustments, both documented in test/infra/README.md:
//
// 1. requestChecksumCalculation / responseChecksumValidation = 'WHEN_REQUIRED'. Since
//    3.729 the SDK adds an x-amz-checksum-crc32 header to every PutObject/UploadPart with a
//    buffered body; s3proxy (2.6.0 and 3.0.0) answers 501 NotImplemented to that header.
//    (A streamed body with the defaults goes as aws-chunked with a trailing checksum,
//    which s3proxy 3.0.0 accepts.)
// 2. DeleteObjects requires a checksum even with WHEN_REQUIRED, and the SDK sends CRC32
//    there too: a middleware replaces it with Content-MD5, which s3proxy accepts.
import { createHash } from 'node:crypto';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

interface HttpRequestLike {
  headers: Record<string, string>;
  body?: unknown;
}

export function s3ClientForS3Proxy(config: S3ClientConfig): S3Client {
  const client = new S3Client({
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...config,
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as HttpRequestLike | undefined;
      if (context.commandName === 'DeleteObjectsCommand' && request && typeof request.body === 'string') {
        for (const name of Object.keys(request.headers)) {
          const lower = name.toLowerCase();
          if (lower.startsWith('x-amz-checksum-') || lower === 'x-amz-sdk-checksum-algorithm') {
            delete request.headers[name];
          }
        }
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    // inside the flexible-checksums middleware (same step, lower priority: it has added its
    // header when this runs), and before signing (finalizeRequest)
    { step: 'build', name: 'sextantS3ProxyContentMd5', priority: 'low' },
  );
  return client;
}
