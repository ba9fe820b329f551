import { exitCodeOf } from '../../src/cli/exitCodes.js';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.js';
import { parseEsdbConnectionString, parseStoreSpec } from '../../src/store/index.js';

describe('EventStoreDB connection strings', () => {
  describe('good strings', () => {
    it('one insecure development node', () => {
      const c = parseEsdbConnectionString('esdb://localhost:2113?tls=false');
      expect(c).toMatchObject({ discover: false, hosts: [{ host: 'localhost', port: 2113 }], tls: false, options: { tls: false } });
      expect(c.connectionString).toBe('esdb://localhost:2113?tls=false');
      expect(c.display).toBe('esdb://localhost:2113?tls=false');
    });

    it('TLS is on unless the string turns it off; the port defaults to 2113', () => {
      const c = parseEsdbConnectionString('esdb://eventstore.internal');
      expect(c).toMatchObject({ tls: true, hosts: [{ host: 'eventstore.internal', port: 2113 }] });
      expect(c.connectionString).toBe('esdb://eventstore.internal:2113');
    });

    it('a cluster by its gossip seeds, with options in any case', () => {
      const c = parseEsdbConnectionString(
        'esdb://node1:2111,node2:2112,10.0.0.3:2113?tls=true&NodePreference=Follower&tls_verify_cert=true&maxDiscoverAttempts=5',
      );
      expect(c.hosts).toEqual([
        { host: 'node1', port: 2111 },
        { host: 'node2', port: 2112 },
        { host: '10.0.0.3', port: 2113 },
      ]);
      expect(c.options).toEqual({ tls: true, nodePreference: 'follower', tlsVerifyCert: true, maxDiscoverAttempts: 5 });
      expect(c.connectionString).toBe(
        'esdb://node1:2111,node2:2112,10.0.0.3:2113?tls=true&nodePreference=Follower&tlsVerifyCert=true&maxDiscoverAttempts=5',
      );
    });

    it('a cluster found through DNS', () => {
      const c = parseEsdbConnectionString('esdb+discover://cluster.example.com:2113?tls=false');
      expect(c).toMatchObject({ discover: true, hosts: [{ host: 'cluster.example.com', port: 2113 }], tls: false });
    });

    it('keeps credentials for the client and hides the password in messages', () => {
      const c = parseEsdbConnectionString('esdb://admin:changeit@localhost:2113?tlsCAFile=%2Fcerts%2Fca.crt');
      expect(c.username).toBe('admin');
      expect(c.options.tlsCAFile).toBe('/certs/ca.crt');
      expect(c.connectionString).toBe('esdb://admin:changeit@localhost:2113?tlsCAFile=%2Fcerts%2Fca.crt');
      expect(c.display).toBe('esdb://admin:***@localhost:2113?tlsCAFile=%2Fcerts%2Fca.crt');
    });

    it('is what parseStoreSpec gives for esdb:// and esdb+discover://', () => {
      expect(parseStoreSpec('esdb://localhost:2113?tls=false')).toEqual({
        engine: 'eventstoredb',
        connection: parseEsdbConnectionString('esdb://localhost:2113?tls=false'),
      });
      expect(parseStoreSpec('esdb+discover://dns.example:2113')).toMatchObject({ engine: 'eventstoredb', connection: { discover: true } });
    });
  });

  describe('bad strings are a StoreError (exit code 2) naming what is wrong', () => {
    it.each([
      ['esdb://', /no host/],
      ['esdb://localhost:21130000', /port "21130000" of localhost: expected a number from 1 to 65535/],
      ['esdb://localhost:abc', /port "abc"/],
      ['esdb://localhost:2113?tsl=false', /unknown option "tsl" \(known: tls, /],
      ['esdb://localhost:2113?tls=no', /option tls: expected true or false, got "no"/],
      ['esdb://localhost:2113?tls', /option "tls": expected key=value/],
      ['esdb://localhost:2113?', /nothing after "\?"/],
      ['esdb://localhost:2113?tls=false&tls=true', /option "tls" is given twice/],
      [
        'esdb://localhost:2113?nodePreference=nearest',
        /nodePreference: expected leader, follower, random or read_only_replica, got "nearest"/,
      ],
      ['esdb://localhost:2113?gossipTimeout=5s', /gossipTimeout: expected a whole number, got "5s"/],
      ['esdb://localhost:2113?throwOnAppendFailure=false', /throwOnAppendFailure=false is not supported/],
      ['esdb://a:2113,,b:2113', /an empty host in the list/],
      ['esdb://[::1]:2113', /IPv6 addresses are not supported/],
      ['esdb://bad host:2113', /"bad host" is not a host name/],
      ['esdb://localhost:2113/db', /unexpected path "\/db"/],
      ['esdb+discover://a:2113,b:2113', /esdb\+discover:\/\/ takes one DNS name/],
      ['esdb://:secret@localhost', /credentials must be user:password@/],
      ['ESDB://localhost', /unknown scheme "ESDB:\/\/" \(write it in lower case\)/],
      ['http://localhost:2113', /unknown scheme "http:\/\/"/],
    ])('%j', (spec, message) => {
      const error = (() => {
        try {
          parseEsdbConnectionString(spec);
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(StoreError);
      expect(exitCodeOf(error)).toBe(2);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/expected esdb:\/\/host:2113\?tls=false \(one node\)/);
    });

    it('never prints the password', () => {
      expect(() => parseEsdbConnectionString('esdb://admin:hunter2@localhost:2113?bogus=1')).toThrow(/esdb:\/\/admin:\*\*\*@localhost/);
      expect(() => parseEsdbConnectionString('esdb://admin:hunter2@localhost:2113?bogus=1')).not.toThrow(/hunter2/);
    });

    it('points a kurrentdb:// string to its esdb:// spelling', () => {
      expect(() => parseStoreSpec('kurrentdb://admin:pw@localhost:2113?tls=false')).toThrow(
        'store "kurrentdb://admin:***@localhost:2113?tls=false": this version reads KurrentDB addresses in the esdb:// form: esdb://admin:***@localhost:2113?tls=false',
      );
    });
  });
});
