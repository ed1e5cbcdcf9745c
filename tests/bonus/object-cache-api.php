<?php
/*
 * tests/bonus/object-cache-api.php: the WP_Object_Cache API of our Redis
 * drop-in, against the real Redis, inside the running wordpress container:
 *   docker exec -i -u www-data WORDPRESS php -- < object-cache-api.php
 * Loads WordPress (wp-load.php), so the drop-in is the one WordPress uses.
 * Prints one "ok"/"not ok" line per assertion and exits 1 if any failed.
 * A "new request" is simulated with wp_cache_flush_runtime(): what is
 * still found after it came from Redis.
 */
error_reporting( E_ALL & ~E_DEPRECATED );
$_SERVER['HTTP_HOST']   = getenv( 'DOMAIN_NAME' ) ?: 'localhost';
$_SERVER['REQUEST_URI'] = '/';
define( 'WP_USE_THEMES', false );
require '/var/www/html/wp-load.php';

$failed = 0;
function check( $name, $cond, $detail = '' ) {
	global $failed;
	if ( $cond ) {
		echo "ok - $name\n";
	} else {
		$failed++;
		echo "not ok - $name" . ( '' !== $detail ? " ($detail)" : '' ) . "\n";
	}
}
function raw_redis() {
	$r = new Redis();
	$r->connect( WP_REDIS_HOST, defined( 'WP_REDIS_PORT' ) ? WP_REDIS_PORT : 6379, 2 );
	if ( defined( 'WP_REDIS_PASSWORD' ) ) {
		$r->auth( WP_REDIS_PASSWORD );
	}
	return $r;
}

global $wp_object_cache;
$g = 'inception-test-' . getmypid();   // a group of our own
$p = $wp_object_cache->redis_prefix();
check( 'drop-in in use (wp_using_ext_object_cache)', wp_using_ext_object_cache() );
check( 'connected to Redis', method_exists( $wp_object_cache, 'redis_connected' ) && $wp_object_cache->redis_connected() );
check( 'key prefix is per site (WP_CACHE_KEY_SALT)', defined( 'WP_CACHE_KEY_SALT' ) && 0 === strpos( $p, rtrim( WP_CACHE_KEY_SALT, ':' ) ) , $p );
foreach ( array( 'add_multiple', 'set_multiple', 'get_multiple', 'delete_multiple', 'flush_runtime', 'flush_group' ) as $f ) {
	check( "wp_cache_supports($f)", wp_cache_supports( $f ) );
}

// set/get keep types, also across a request (from Redis).
$obj     = new stdClass();
$obj->a  = 1;
$values  = array( 'int' => 42, 'neg' => -7, 'numstr' => '5', 'str' => 'hello', 'arr' => array( 1, 'x' => array( 2 ) ), 'obj' => $obj, 'false' => false, 'null' => null, 'float' => 1.5 );
foreach ( $values as $k => $v ) {
	wp_cache_set( $k, $v, $g );
}
wp_cache_flush_runtime();
foreach ( $values as $k => $v ) {
	$found = null;
	$got   = wp_cache_get( $k, $g, false, $found );
	check( "set/get $k survives a new request, type kept", $found === true && ( is_object( $v ) ? $got == $v && $got instanceof stdClass : $got === $v ), var_export( $got, true ) );
}
$found = null;
check( 'get of a missing key: false, found=false', false === wp_cache_get( 'missing', $g, false, $found ) && false === $found );

// objects are copies
$o = wp_cache_get( 'obj', $g );
$o->a = 99;
check( 'returned objects are copies', 1 === wp_cache_get( 'obj', $g )->a );

// add / replace
check( 'add to a new key succeeds', true === wp_cache_add( 'new', 'v1', $g ) );
check( 'add to an existing key fails', false === wp_cache_add( 'new', 'v2', $g ) && 'v1' === wp_cache_get( 'new', $g ) );
wp_cache_flush_runtime();
check( 'add fails when only Redis has the key (other request)', false === wp_cache_add( 'new', 'v3', $g ) );
check( 'replace of a missing key fails', false === wp_cache_replace( 'absent', 'x', $g ) && false === wp_cache_get( 'absent', $g ) );
check( 'replace of an existing key succeeds', true === wp_cache_replace( 'new', 'v4', $g ) );
wp_cache_flush_runtime();
check( 'replaced value is in Redis', 'v4' === wp_cache_get( 'new', $g ) );

// incr / decr (atomic in Redis)
check( 'incr of a missing key is false', false === wp_cache_incr( 'nokey', 1, $g ) );
wp_cache_set( 'n', 5, $g );
check( 'incr 5 by 3 = 8', 8 === wp_cache_incr( 'n', 3, $g ) );
check( 'decr 8 by 2 = 6', 6 === wp_cache_decr( 'n', 2, $g ) );
check( 'decr below zero stops at 0', 0 === wp_cache_decr( 'n', 10, $g ) );
wp_cache_flush_runtime();
check( 'incr result is in Redis', 0 === wp_cache_get( 'n', $g ) && 4 === wp_cache_incr( 'n', 4, $g ) );
wp_cache_set( 'word', 'abc', $g );
check( 'incr of a non-number starts from 0', 2 === wp_cache_incr( 'word', 2, $g ) );

// groups
wp_cache_set( 'same', 'in-a', $g . '-a' );
wp_cache_set( 'same', 'in-b', $g . '-b' );
wp_cache_flush_runtime();
check( 'same key in two groups is two entries', 'in-a' === wp_cache_get( 'same', $g . '-a' ) && 'in-b' === wp_cache_get( 'same', $g . '-b' ) );
check( 'empty group means "default"', wp_cache_set( 'dflt', 1, '' ) && 1 === wp_cache_get( 'dflt', 'default' ) );

// *_multiple
$r = wp_cache_set_multiple( array( 'm1' => 'a', 'm2' => 'b' ), $g );
wp_cache_flush_runtime();
check( 'set_multiple + get_multiple', array( 'm1' => true, 'm2' => true ) === $r && array( 'm1' => 'a', 'm2' => 'b', 'm3' => false ) === wp_cache_get_multiple( array( 'm1', 'm2', 'm3' ), $g ) );
check( 'add_multiple: existing false, new true', array( 'm1' => false, 'm4' => true ) === wp_cache_add_multiple( array( 'm1' => 'z', 'm4' => 'd' ), $g ) );
check( 'delete_multiple', array( 'm1' => true, 'm9' => false ) === wp_cache_delete_multiple( array( 'm1', 'm9' ), $g ) && false === wp_cache_get( 'm1', $g ) );
wp_cache_flush_runtime();
check( 'deleted key is gone from Redis', false === wp_cache_get( 'm1', $g ) && 'b' === wp_cache_get( 'm2', $g ) );

// non-persistent groups
wp_cache_add_non_persistent_groups( array( $g . '-np' ) );
wp_cache_set( 'k', 'local', $g . '-np' );
check( 'non-persistent group: found in this request', 'local' === wp_cache_get( 'k', $g . '-np' ) );
$raw = raw_redis();
check( 'non-persistent group: nothing in Redis', 0 === count( $raw->keys( $p . '*:' . $g . '-np:*' ) ) );
wp_cache_flush_runtime();
check( 'non-persistent group: gone in the next request', false === wp_cache_get( 'k', $g . '-np' ) );
check( 'incr works in a non-persistent group', wp_cache_set( 'c', 1, $g . '-np' ) && 3 === wp_cache_incr( 'c', 2, $g . '-np' ) );

// global groups and blogs
wp_cache_add_global_groups( array( $g . '-global' ) );
wp_cache_set( 'shared', 'all-blogs', $g . '-global' );
wp_cache_set( 'own', 'blog-1', $g );
wp_cache_switch_to_blog( 2 );
wp_cache_flush_runtime();
check( 'global group is shared between blogs', 'all-blogs' === wp_cache_get( 'shared', $g . '-global' ) );
check( 'other groups are per blog', false === wp_cache_get( 'own', $g ) );
wp_cache_switch_to_blog( 1 );
check( 'back on blog 1 its key is there', 'blog-1' === wp_cache_get( 'own', $g ) );

// force: re-read from Redis, bypassing the runtime copy
wp_cache_set( 'forced', 'old', $g );
$raw->set( $p . '1:' . $g . ':forced', serialize( 'new' ) );
check( 'get without force uses the runtime copy', 'old' === wp_cache_get( 'forced', $g ) );
check( 'get with force reads Redis', 'new' === wp_cache_get( 'forced', $g, true ) );

// expiry
wp_cache_set( 'ttl', 'short', $g, 1 );
check( 'expire sets a TTL in Redis', $raw->ttl( $p . '1:' . $g . ':ttl' ) > 0 );
sleep( 2 );
wp_cache_flush_runtime();
check( 'expired key is gone', false === wp_cache_get( 'ttl', $g ) );

// flush_group
wp_cache_set( 'x', 1, $g . '-a' );
wp_cache_flush_group( $g . '-a' );
wp_cache_flush_runtime();
check( 'flush_group empties that group', false === wp_cache_get( 'x', $g . '-a' ) && false === wp_cache_get( 'same', $g . '-a' ) );
check( 'flush_group leaves other groups', 'in-b' === wp_cache_get( 'same', $g . '-b' ) );

// flush: only this site's keys
$other = 'othersite.example:1:default:keep-me';
$raw->set( $other, 'x' );
check( 'flush returns true', true === wp_cache_flush() );
check( 'flush empties this site (runtime and Redis)', false === wp_cache_get( 'm2', $g ) && 0 === count( $raw->keys( $p . '*' ) ) );
check( 'flush leaves another site\'s keys (prefix per site)', 'x' === $raw->get( $other ) );
$raw->del( $other );

// hits and misses are counted
check( 'hits and misses are counted', $wp_object_cache->cache_hits > 0 && $wp_object_cache->cache_misses > 0 );

echo $failed ? "object-cache API: $failed failed\n" : "object-cache API: all passed\n";
exit( $failed ? 1 : 0 );
