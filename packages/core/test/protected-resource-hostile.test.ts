import { server } from '@tokenwell/mock-server/msw'
import fc from 'fast-check'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { isLoopback, parseWwwAuthenticate } from '../src/adapter/index.js'
import { DiscoveryError, discoverProtectedResource, resourceMetadataFromChallenges } from '../src/index.js'

const resource = 'https://api.test/mcp'
const origins = [
  'https://api.test',
  'https://evil.test',
  'http://api.test',
  'https://api.test:8443',
  'https://API.test',
]
const urlLike = fc.oneof(
  fc.constantFrom(...origins).chain((origin) => fc.webPath().map((path) => `${origin}${path}`)),
  fc.webUrl(),
  fc.string(),
)
const header = fc
  .array(
    fc.record({
      scheme: fc.constantFrom('Bearer', 'DPoP', 'Basic', 'bearer', 'X'),
      url: urlLike,
      quoted: fc.boolean(),
    }),
    { maxLength: 4 },
  )
  .map((parts) =>
    parts
      .map(({ scheme, url, quoted }) => `${scheme} resource_metadata=${quoted ? JSON.stringify(url) : url}`)
      .join(', '),
  )

describe('hostile protected resource metadata and challenges (RFC 9728)', () => {
  it('a resource_metadata URL taken from any challenge is on the origin of the challenged request', () => {
    fc.assert(
      fc.property(header, fc.constantFrom(...origins), (value, origin) => {
        const url = resourceMetadataFromChallenges(parseWwwAuthenticate(value), `${origin}/mcp`)
        if (url !== undefined) expect(url.origin).toBe(new URL(origin).origin)
      }),
    )
  })

  it('any metadata document ends in checked metadata for the resource or a DiscoveryError; no other origin is asked', async () => {
    const document = fc.oneof(
      fc.dictionary(fc.constantFrom('resource', 'authorization_servers', 'x'), fc.jsonValue()),
      fc.record({
        resource: fc.oneof(fc.constant(resource), fc.constant('https://api.test/mcp/'), urlLike),
        authorization_servers: fc.oneof(fc.array(urlLike, { maxLength: 3 }), fc.jsonValue()),
      }),
    )
    await fc.assert(
      fc.asyncProperty(document, async (body) => {
        const elsewhere: string[] = []
        server.use(
          http.get('https://api.test/.well-known/oauth-protected-resource/mcp', () =>
            HttpResponse.json(body),
          ),
          http.all('*', ({ request }) => {
            elsewhere.push(request.url)
            return HttpResponse.error()
          }),
        )
        try {
          const metadata = await discoverProtectedResource(resource)
          expect(new URL(metadata.resource).href).toBe(resource)
          for (const issuer of metadata.authorization_servers ?? []) {
            const url = new URL(issuer)
            expect(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))).toBe(true)
          }
        } catch (error) {
          expect(error).toBeInstanceOf(DiscoveryError)
        }
        expect(elsewhere).toEqual([])
      }),
      { numRuns: 100 },
    )
  })
})
