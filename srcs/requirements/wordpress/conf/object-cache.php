<?php
/**
 * Inception object cache: a WordPress object-cache.php drop-in on Redis
 * (PHP's phpredis extension, Debian's php8.2-redis).  Our own code: this
 * infrastructure cannot download plugins.
 *
 * How it works
 * - Every request keeps a runtime copy of what it read or wrote (like core's
 *   WP_Object_Cache); persistent groups are also stored in Redis, so the
 *   next request finds them there.  Non-persistent groups stay in the
 *   runtime copy only.
 * - Redis keys are "<prefix><blog>:<group>:<key>", where <prefix> is one per
 *   site (WP_REDIS_PREFIX, else WP_CACHE_KEY_SALT, else DB_NAME and the
 *   table prefix) and <blog> is the blog id, or "global" for global groups.
 * - Integers are stored as plain decimal strings so that incr/decr are done
 *   atomically in Redis; every other value is PHP-serialized (types kept).
 * - If Redis cannot be reached (or the extension is missing) the error is
 *   logged once per request and the request goes on with the runtime cache
 *   only: pages are still served.  A marker file then records that Redis
 *   missed writes; the first request that reaches Redis again flushes this
 *   site's keys, so no stale entry survives the outage.
 *
 * Settings (constants in wp-config.php): WP_REDIS_HOST (required to use
 * Redis), WP_REDIS_PORT (6379), WP_REDIS_PASSWORD, WP_REDIS_DATABASE (0),
 * WP_REDIS_PREFIX, WP_REDIS_TIMEOUT (seconds, 1), WP_REDIS_MAXTTL (seconds,
 * 0 = none), WP_REDIS_DISABLED (true: runtime cache only).
 *
 * @package Inception
 */

defined( 'ABSPATH' ) || exit;

/** Sets up the object cache global. */
function wp_cache_init() {
	$GLOBALS['wp_object_cache'] = new WP_Object_Cache();
}

function wp_cache_add( $key, $data, $group = '', $expire = 0 ) {
	global $wp_object_cache;
	return $wp_object_cache->add( $key, $data, $group, (int) $expire );
}

function wp_cache_add_multiple( array $data, $group = '', $expire = 0 ) {
	global $wp_object_cache;
	return $wp_object_cache->add_multiple( $data, $group, (int) $expire );
}

function wp_cache_replace( $key, $data, $group = '', $expire = 0 ) {
	global $wp_object_cache;
	return $wp_object_cache->replace( $key, $data, $group, (int) $expire );
}

function wp_cache_set( $key, $data, $group = '', $expire = 0 ) {
	global $wp_object_cache;
	return $wp_object_cache->set( $key, $data, $group, (int) $expire );
}

function wp_cache_set_multiple( array $data, $group = '', $expire = 0 ) {
	global $wp_object_cache;
	return $wp_object_cache->set_multiple( $data, $group, (int) $expire );
}

function wp_cache_get( $key, $group = '', $force = false, &$found = null ) {
	global $wp_object_cache;
	return $wp_object_cache->get( $key, $group, $force, $found );
}

function wp_cache_get_multiple( $keys, $group = '', $force = false ) {
	global $wp_object_cache;
	return $wp_object_cache->get_multiple( $keys, $group, $force );
}

function wp_cache_delete( $key, $group = '' ) {
	global $wp_object_cache;
	return $wp_object_cache->delete( $key, $group );
}

function wp_cache_delete_multiple( array $keys, $group = '' ) {
	global $wp_object_cache;
	return $wp_object_cache->delete_multiple( $keys, $group );
}

function wp_cache_incr( $key, $offset = 1, $group = '' ) {
	global $wp_object_cache;
	return $wp_object_cache->incr( $key, $offset, $group );
}

function wp_cache_decr( $key, $offset = 1, $group = '' ) {
	global $wp_object_cache;
	return $wp_object_cache->decr( $key, $offset, $group );
}

function wp_cache_flush() {
	global $wp_object_cache;
	return $wp_object_cache->flush();
}

function wp_cache_flush_runtime() {
	global $wp_object_cache;
	return $wp_object_cache->flush_runtime();
}

function wp_cache_flush_group( $group ) {
	global $wp_object_cache;
	return $wp_object_cache->flush_group( $group );
}

function wp_cache_supports( $feature ) {
	switch ( $feature ) {
		case 'add_multiple':
		case 'set_multiple':
		case 'get_multiple':
		case 'delete_multiple':
		case 'flush_runtime':
		case 'flush_group':
			return true;
		default:
			return false;
	}
}

function wp_cache_close() {
	return true;
}

function wp_cache_add_global_groups( $groups ) {
	global $wp_object_cache;
	$wp_object_cache->add_global_groups( $groups );
}

function wp_cache_add_non_persistent_groups( $groups ) {
	global $wp_object_cache;
	$wp_object_cache->add_non_persistent_groups( $groups );
}

function wp_cache_switch_to_blog( $blog_id ) {
	global $wp_object_cache;
	$wp_object_cache->switch_to_blog( $blog_id );
}

/** @deprecated 3.5.0 Use wp_cache_switch_to_blog(). */
function wp_cache_reset() {
	_deprecated_function( __FUNCTION__, '3.5.0', 'wp_cache_switch_to_blog()' );
	global $wp_object_cache;
	$wp_object_cache->reset();
}

/**
 * The object cache: runtime array in front of Redis.
 */
#[AllowDynamicProperties]
class WP_Object_Cache {

	/** @var int Reads answered (runtime copy or Redis). */
	public $cache_hits = 0;

	/** @var int Reads that found nothing. */
	public $cache_misses = 0;

	/** @var int Round trips to Redis in this request. */
	public $redis_calls = 0;

	/** @var array Runtime copy: $cache[ group ][ derived key ] = value. */
	private $cache = array();

	/** @var array Groups shared by all blogs of a network (name => true). */
	protected $global_groups = array();

	/** @var array Groups kept in this request only (name => true). */
	protected $non_persistent_groups = array();

	/** @var string Blog part of the keys of non-global groups. */
	private $blog_prefix = '1';

	/** @var string Site part of every Redis key, ends in ':'. */
	private $prefix;

	/** @var Redis|null Connection; null when Redis is not in use. */
	private $redis = null;

	/** @var bool Whether to try Redis at all in this request. */
	private $use_redis;

	/** @var bool Whether the failure of this request was logged already. */
	private $failure_logged = false;

	/** @var int WP_REDIS_MAXTTL. */
	private $max_ttl = 0;

	/** Lua: INCRBY with core's rules (missing: nil; not a number: 0; never below 0). */
	const INCR_SCRIPT = <<<'LUA'
local v = redis.call('GET', KEYS[1])
if not v then return false end
local n = tonumber(v)
if not n or n ~= math.floor(n) then n = 0 end
n = n + tonumber(ARGV[1])
if n < 0 then n = 0 end
redis.call('SET', KEYS[1], string.format('%d', n), 'KEEPTTL')
return n
LUA;

	public function __construct() {
		global $table_prefix;

		$this->blog_prefix = (string) ( is_multisite() ? get_current_blog_id() : 1 );
		$this->prefix      = self::site_prefix( isset( $table_prefix ) ? $table_prefix : 'wp_' );
		$this->max_ttl     = defined( 'WP_REDIS_MAXTTL' ) ? max( 0, (int) WP_REDIS_MAXTTL ) : 0;
		$this->use_redis   = defined( 'WP_REDIS_HOST' ) && WP_REDIS_HOST
			&& ! ( defined( 'WP_REDIS_DISABLED' ) && WP_REDIS_DISABLED );
		if ( $this->use_redis ) {
			$this->connect();
		}
	}

	/** The per-site key prefix: "<something>:", only printable ASCII without spaces. */
	private static function site_prefix( $table_prefix ) {
		if ( defined( 'WP_REDIS_PREFIX' ) && WP_REDIS_PREFIX ) {
			$p = (string) WP_REDIS_PREFIX;
		} elseif ( defined( 'WP_CACHE_KEY_SALT' ) && WP_CACHE_KEY_SALT ) {
			$p = (string) WP_CACHE_KEY_SALT;
		} else {
			$p = ( defined( 'DB_NAME' ) ? DB_NAME : 'wp' ) . ':' . $table_prefix;
		}
		$p = preg_replace( '/[^\x21-\x7e]/', '_', $p );
		return rtrim( $p, ':' ) . ':';
	}

	/** Connects (persistent connection per php-fpm worker) or degrades. */
	private function connect() {
		if ( ! class_exists( 'Redis' ) ) {
			$this->fail( new RuntimeException( 'the phpredis extension (php8.2-redis) is not loaded' ) );
			return;
		}
		$host    = (string) WP_REDIS_HOST;
		$port    = defined( 'WP_REDIS_PORT' ) ? (int) WP_REDIS_PORT : 6379;
		$timeout = defined( 'WP_REDIS_TIMEOUT' ) ? (float) WP_REDIS_TIMEOUT : 1.0;
		$db      = defined( 'WP_REDIS_DATABASE' ) ? (int) WP_REDIS_DATABASE : 0;
		$pass    = defined( 'WP_REDIS_PASSWORD' ) ? (string) WP_REDIS_PASSWORD : '';

		// A persistent connection may have died with a Redis restart: the
		// first command (AUTH, or PING) finds out, and one fresh connection
		// is tried before giving up.
		for ( $attempt = 0; $attempt < 2; $attempt++ ) {
			try {
				$r = new Redis();
				// The failure is reported once by fail(), not as a PHP warning too.
				if ( 0 === $attempt ) {
					$ok = @$r->pconnect( $host, $port, $timeout, 'inception-' . $this->prefix . $db, 0, $timeout ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
				} else {
					$ok = @$r->connect( $host, $port, $timeout, null, 0, $timeout ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
				}
				if ( ! $ok ) {
					throw new RedisException( "cannot connect to $host:$port" );
				}
				if ( '' !== $pass && ! $r->auth( $pass ) ) {
					throw new RedisException( 'authentication failed' );
				}
				if ( '' === $pass && ! $r->ping() ) {
					throw new RedisException( 'no answer to PING' );
				}
				if ( 0 !== $db && ! $r->select( $db ) ) {
					throw new RedisException( "cannot select database $db" );
				}
				$this->redis        = $r;
				$this->redis_calls += 1;
				$this->recover_after_outage();
				return;
			} catch ( Exception $e ) {
				if ( isset( $r ) ) {
					try {
						$r->close();
					} catch ( Exception $ignored ) { // phpcs:ignore Generic.CodeAnalysis.EmptyStatement
					}
				}
				if ( 1 === $attempt ) {
					$this->fail( $e );
				}
			}
		}
	}

	/** Path of the marker that says Redis missed writes during an outage. */
	private function stale_marker() {
		return WP_CONTENT_DIR . '/object-cache.stale';
	}

	/** After an outage: drop what Redis holds for this site (it may be stale). */
	private function recover_after_outage() {
		$marker = $this->stale_marker();
		if ( ! @file_exists( $marker ) ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors
			return;
		}
		if ( $this->delete_matching( '*' ) ) {
			@unlink( $marker ); // phpcs:ignore WordPress.PHP.NoSilencedErrors
			error_log( 'object-cache: Redis is back; flushed this site\'s keys after the outage' );
		}
	}

	/** Stops using Redis for this request, logs why once, marks the cache stale. */
	private function fail( $e ) {
		$this->redis = null;
		if ( ! $this->failure_logged ) {
			$this->failure_logged = true;
			error_log( 'object-cache: Redis unavailable, using the runtime cache only: ' . $e->getMessage() );
			$this->mark_stale();
		}
	}

	private function mark_stale() {
		if ( ! @touch( $this->stale_marker() ) ) { // phpcs:ignore WordPress.PHP.NoSilencedErrors
			error_log( 'object-cache: cannot write ' . $this->stale_marker() . ': flush Redis by hand when it is back' );
		}
	}

	/** Runs $fn( Redis ) if Redis is in use; on a Redis error degrades and returns $fallback. */
	private function call( $fn, $fallback = false ) {
		if ( null === $this->redis ) {
			return $fallback;
		}
		try {
			$this->redis_calls++;
			return $fn( $this->redis );
		} catch ( Exception $e ) {
			$this->fail( $e );
			return $fallback;
		}
	}

	/** Core's key check (6.1): an int or a non-empty string. */
	protected function is_valid_key( $key ) {
		if ( is_int( $key ) ) {
			return true;
		}
		if ( is_string( $key ) && '' !== trim( $key ) ) {
			return true;
		}
		$type = gettype( $key );
		if ( function_exists( '_doing_it_wrong' ) ) {
			_doing_it_wrong(
				__METHOD__,
				sprintf( 'Cache key must be an integer or a non-empty string, %s given.', $type ),
				'6.1.0'
			);
		}
		return false;
	}

	private static function group( $group ) {
		return ( '' === (string) $group ) ? 'default' : (string) $group;
	}

	private function persistent( $group ) {
		return ! isset( $this->non_persistent_groups[ $group ] );
	}

	/** The Redis key of ($key, $group). */
	private function redis_key( $key, $group ) {
		$blog = isset( $this->global_groups[ $group ] ) ? 'global' : $this->blog_prefix;
		return $this->prefix . $blog . ':' . $group . ':' . $key;
	}

	/** The runtime-copy key: blog-qualified, like core's. */
	private function local_key( $key, $group ) {
		return isset( $this->global_groups[ $group ] ) ? (string) $key : $this->blog_prefix . ':' . $key;
	}

	private static function encode( $data ) {
		return is_int( $data ) ? (string) $data : serialize( $data );
	}

	private static function decode( $raw ) {
		if ( preg_match( '/^-?[0-9]+$/', $raw ) ) {
			return (int) $raw;
		}
		return unserialize( $raw ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions
	}

	private static function copy( $data ) {
		return is_object( $data ) ? clone $data : $data;
	}

	private function ttl( $expire ) {
		$expire = max( 0, (int) $expire );
		if ( $this->max_ttl > 0 && ( 0 === $expire || $expire > $this->max_ttl ) ) {
			$expire = $this->max_ttl;
		}
		return $expire;
	}

	private function remember( $key, $group, $data ) {
		$this->cache[ $group ][ $this->local_key( $key, $group ) ] = self::copy( $data );
	}

	private function in_runtime( $key, $group ) {
		return isset( $this->cache[ $group ] )
			&& array_key_exists( $this->local_key( $key, $group ), $this->cache[ $group ] );
	}

	/** Writes to Redis with SET options ('nx', 'xx', 'ex'); null = not tried. */
	private function redis_set( $key, $group, $data, $expire, array $opts ) {
		if ( ! $this->persistent( $group ) ) {
			return null;
		}
		$ttl = $this->ttl( $expire );
		if ( $ttl > 0 ) {
			$opts['ex'] = $ttl;
		}
		$rkey = $this->redis_key( $key, $group );
		$raw  = self::encode( $data );
		return $this->call(
			function ( $r ) use ( $rkey, $raw, $opts ) {
				return (bool) ( $opts ? $r->set( $rkey, $raw, $opts ) : $r->set( $rkey, $raw ) );
			},
			null
		);
	}

	public function add( $key, $data, $group = 'default', $expire = 0 ) {
		if ( function_exists( 'wp_suspend_cache_addition' ) && wp_suspend_cache_addition() ) {
			return false;
		}
		if ( ! $this->is_valid_key( $key ) ) {
			return false;
		}
		$group = self::group( $group );
		if ( $this->in_runtime( $key, $group ) ) {
			return false;
		}
		$stored = $this->redis_set( $key, $group, $data, $expire, array( 'nx' ) );
		if ( false === $stored ) {
			return false; // Another request has it in Redis already.
		}
		$this->remember( $key, $group, $data );
		return true;
	}

	public function add_multiple( array $data, $group = '', $expire = 0 ) {
		$values = array();
		foreach ( $data as $key => $value ) {
			$values[ $key ] = $this->add( $key, $value, $group, $expire );
		}
		return $values;
	}

	public function replace( $key, $data, $group = 'default', $expire = 0 ) {
		if ( ! $this->is_valid_key( $key ) ) {
			return false;
		}
		$group = self::group( $group );
		$stored = $this->redis_set( $key, $group, $data, $expire, array( 'xx' ) );
		if ( null === $stored ) {
			// Runtime only (non-persistent group, or Redis down).
			if ( ! $this->in_runtime( $key, $group ) ) {
				return false;
			}
		} elseif ( false === $stored ) {
			return false;
		}
		$this->remember( $key, $group, $data );
		return true;
	}

	public function set( $key, $data, $group = 'default', $expire = 0 ) {
		if ( ! $this->is_valid_key( $key ) ) {
			return false;
		}
		$group = self::group( $group );
		$this->redis_set( $key, $group, $data, $expire, array() );
		$this->remember( $key, $group, $data );
		return true;
	}

	public function set_multiple( array $data, $group = '', $expire = 0 ) {
		$group  = self::group( $group );
		$values = array();
		$batch  = array();
		foreach ( $data as $key => $value ) {
			if ( ! $this->is_valid_key( $key ) ) {
				$values[ $key ] = false;
				continue;
			}
			$this->remember( $key, $group, $value );
			$values[ $key ] = true;
			if ( $this->persistent( $group ) ) {
				$batch[ $this->redis_key( $key, $group ) ] = self::encode( $value );
			}
		}
		if ( $batch ) {
			$ttl = $this->ttl( $expire );
			$this->call(
				function ( $r ) use ( $batch, $ttl ) {
					$p = $r->multi( Redis::PIPELINE );
					foreach ( $batch as $rkey => $raw ) {
						if ( $ttl > 0 ) {
							$p->set( $rkey, $raw, array( 'ex' => $ttl ) );
						} else {
							$p->set( $rkey, $raw );
						}
					}
					return $p->exec();
				}
			);
		}
		return $values;
	}

	public function get( $key, $group = 'default', $force = false, &$found = null ) {
		if ( ! $this->is_valid_key( $key ) ) {
			$found = false;
			return false;
		}
		$group = self::group( $group );
		$local = $this->local_key( $key, $group );
		$fetch = $this->persistent( $group ) && null !== $this->redis;

		if ( ( ! $force || ! $fetch ) && $this->in_runtime( $key, $group ) ) {
			$found = true;
			$this->cache_hits++;
			return self::copy( $this->cache[ $group ][ $local ] );
		}
		if ( $fetch ) {
			$rkey = $this->redis_key( $key, $group );
			$raw  = $this->call(
				function ( $r ) use ( $rkey ) {
					return $r->get( $rkey );
				}
			);
			if ( false !== $raw && null !== $raw ) {
				$value = self::decode( $raw );
				$this->cache[ $group ][ $local ] = $value;
				$found = true;
				$this->cache_hits++;
				return self::copy( $value );
			}
			if ( $force ) {
				unset( $this->cache[ $group ][ $local ] );
			}
		}
		$found = false;
		$this->cache_misses++;
		return false;
	}

	public function get_multiple( $keys, $group = 'default', $force = false ) {
		$group   = self::group( $group );
		$values  = array();
		$missing = array();
		$fetch   = $this->persistent( $group ) && null !== $this->redis;
		foreach ( $keys as $key ) {
			if ( ! $this->is_valid_key( $key ) ) {
				$values[ $key ] = false;
				continue;
			}
			if ( ( ! $force || ! $fetch ) && $this->in_runtime( $key, $group ) ) {
				$this->cache_hits++;
				$values[ $key ] = self::copy( $this->cache[ $group ][ $this->local_key( $key, $group ) ] );
			} else {
				$values[ $key ] = false;
				$missing[]      = $key;
			}
		}
		if ( $missing && $fetch ) {
			$rkeys = array();
			foreach ( $missing as $key ) {
				$rkeys[] = $this->redis_key( $key, $group );
			}
			$raws = $this->call(
				function ( $r ) use ( $rkeys ) {
					return $r->mget( $rkeys );
				},
				array()
			);
			foreach ( $missing as $i => $key ) {
				$raw = is_array( $raws ) && isset( $raws[ $i ] ) ? $raws[ $i ] : false;
				if ( false !== $raw && null !== $raw ) {
					$value = self::decode( $raw );
					$this->cache[ $group ][ $this->local_key( $key, $group ) ] = $value;
					$this->cache_hits++;
					$values[ $key ] = self::copy( $value );
				} else {
					$this->cache_misses++;
				}
			}
		} else {
			$this->cache_misses += count( $missing );
		}
		return $values;
	}

	public function delete( $key, $group = 'default', $deprecated = false ) {
		if ( ! $this->is_valid_key( $key ) ) {
			return false;
		}
		$group  = self::group( $group );
		$local  = $this->local_key( $key, $group );
		$exists = $this->in_runtime( $key, $group );
		unset( $this->cache[ $group ][ $local ] );
		if ( $this->persistent( $group ) ) {
			$rkey    = $this->redis_key( $key, $group );
			$deleted = $this->call(
				function ( $r ) use ( $rkey ) {
					return $r->del( $rkey );
				},
				0
			);
			$exists = $exists || $deleted > 0;
		}
		return $exists;
	}

	public function delete_multiple( array $keys, $group = '' ) {
		$values = array();
		foreach ( $keys as $key ) {
			$values[ $key ] = $this->delete( $key, $group );
		}
		return $values;
	}

	public function incr( $key, $offset = 1, $group = 'default' ) {
		if ( ! $this->is_valid_key( $key ) ) {
			return false;
		}
		$group = self::group( $group );
		$local = $this->local_key( $key, $group );

		if ( $this->persistent( $group ) && null !== $this->redis ) {
			$rkey  = $this->redis_key( $key, $group );
			$value = $this->call(
				function ( $r ) use ( $rkey, $offset ) {
					return $r->eval( self::INCR_SCRIPT, array( $rkey, (int) $offset ), 1 );
				},
				null
			);
			if ( false === $value ) {
				unset( $this->cache[ $group ][ $local ] );
				return false;
			}
			if ( null !== $value ) {
				$this->cache[ $group ][ $local ] = (int) $value;
				return (int) $value;
			}
		}
		// Runtime copy: non-persistent group, or Redis went away.
		if ( ! $this->in_runtime( $key, $group ) ) {
			return false;
		}
		$value = $this->cache[ $group ][ $local ];
		if ( ! is_numeric( $value ) ) {
			$value = 0;
		}
		$value = max( 0, (int) $value + (int) $offset );
		$this->cache[ $group ][ $local ] = $value;
		return $value;
	}

	public function decr( $key, $offset = 1, $group = 'default' ) {
		return $this->incr( $key, -(int) $offset, $group );
	}

	/** Empties the runtime copy and every Redis key of this site (all blogs). */
	public function flush() {
		$this->cache = array();
		if ( null === $this->redis ) {
			// Redis is down: the marker makes the first request that reaches
			// it again flush this site's keys.
			if ( $this->use_redis ) {
				$this->mark_stale();
			}
			return true;
		}
		return $this->delete_matching( '*' );
	}

	public function flush_runtime() {
		$this->cache = array();
		return true;
	}

	/** Empties one group, for every blog. */
	public function flush_group( $group ) {
		$group = self::group( $group );
		unset( $this->cache[ $group ] );
		if ( ! $this->persistent( $group ) || null === $this->redis ) {
			return true;
		}
		return $this->delete_matching( '*:' . self::glob_escape( $group ) . ':*' );
	}

	private static function glob_escape( $s ) {
		return preg_replace( '/([\\\\*?\[\]])/', '\\\\$1', $s );
	}

	/** Deletes this site's Redis keys matching $pattern (after the prefix). */
	private function delete_matching( $pattern ) {
		$match = self::glob_escape( $this->prefix ) . $pattern;
		return (bool) $this->call(
			function ( $r ) use ( $match ) {
				$r->setOption( Redis::OPT_SCAN, Redis::SCAN_RETRY );
				$it = null;
				do {
					$keys = $r->scan( $it, $match, 500 );
					if ( $keys ) {
						$r->unlink( $keys );
					}
				} while ( $it > 0 );
				return true;
			}
		);
	}

	public function add_global_groups( $groups ) {
		foreach ( (array) $groups as $group ) {
			$this->global_groups[ $group ] = true;
		}
	}

	public function add_non_persistent_groups( $groups ) {
		foreach ( (array) $groups as $group ) {
			$this->non_persistent_groups[ $group ] = true;
		}
	}

	public function switch_to_blog( $blog_id ) {
		$this->blog_prefix = (string) (int) $blog_id;
	}

	/** @deprecated 3.5.0 */
	public function reset() {
		foreach ( array_keys( $this->cache ) as $group ) {
			if ( ! isset( $this->global_groups[ $group ] ) ) {
				unset( $this->cache[ $group ] );
			}
		}
	}

	/** Whether Redis is in use for this request (for tests and Site Health). */
	public function redis_connected() {
		return null !== $this->redis;
	}

	/** The prefix of this site's Redis keys. */
	public function redis_prefix() {
		return $this->prefix;
	}

	public function stats() {
		echo '<p>';
		echo '<strong>Cache Hits:</strong> ' . (int) $this->cache_hits . '<br />';
		echo '<strong>Cache Misses:</strong> ' . (int) $this->cache_misses . '<br />';
		echo '<strong>Redis:</strong> ' . ( $this->redis ? 'connected' : 'not in use' )
			. ', ' . (int) $this->redis_calls . ' calls<br />';
		echo '</p>';
		echo '<ul>';
		foreach ( $this->cache as $group => $cache ) {
			echo '<li><strong>Group:</strong> ' . esc_html( $group ) . ' - ( '
				. number_format( strlen( serialize( $cache ) ) / KB_IN_BYTES, 2 ) . 'k )</li>';
		}
		echo '</ul>';
	}
}
