<?php
/*
 * setup.php: install WordPress without wp-cli and without the network.
 *
 * Run by the entrypoint (as root, php-cli) before php-fpm starts, on every
 * start; each step does nothing when its result already exists:
 *   1. wp-config.php: written once, from the environment and the secret
 *      files, with fresh random salts; it blocks outbound HTTP, WP-Cron and
 *      automatic updates; mode 0640 root:www-data.
 *   2. wait (bounded) until the database accepts the WordPress user.
 *   3. wp_install(): site title, https://DOMAIN_NAME, the administrator.
 *   4. wp_insert_user(): the second user, role author (not an admin).
 * Environment: DOMAIN_NAME, WP_TITLE, WP_ADMIN_USER, WP_ADMIN_EMAIL,
 *   WP_USER, WP_USER_EMAIL, WORDPRESS_DB_HOST, WORDPRESS_DB_NAME,
 *   WORDPRESS_DB_USER; secrets db_password, wp_admin_password,
 *   wp_user_password under /run/secrets.
 */

const WP_DIR = '/var/www/html';
const DB_WAIT_SECONDS = 60;

function fail(string $msg): never
{
	fwrite(STDERR, "wordpress setup: $msg\n");
	exit(1);
}

function say(string $msg): void
{
	fwrite(STDERR, "wordpress setup: $msg\n");
}

function env(string $name): string
{
	$v = getenv($name);
	if ($v === false || $v === '')
		fail("$name is not set (srcs/.env)");
	return $v;
}

function secret(string $name): string
{
	$file = "/run/secrets/$name";
	$text = @file_get_contents($file);
	if ($text === false)
		fail("secret $file is missing");
	$line = rtrim(strtok($text, "\n") ?: '', "\r");
	if ($line === '')
		fail("secret $file is empty");
	return $line;
}

function write_config(string $path, string $domain): void
{
	$defines = [
		'DB_NAME' => env('WORDPRESS_DB_NAME'),
		'DB_USER' => env('WORDPRESS_DB_USER'),
		'DB_PASSWORD' => secret('db_password'),
		'DB_HOST' => env('WORDPRESS_DB_HOST'),
		'DB_CHARSET' => 'utf8mb4',
		'DB_COLLATE' => '',
		'WP_HOME' => "https://$domain",
		'WP_SITEURL' => "https://$domain",
		'FORCE_SSL_ADMIN' => true,
		// Offline by design: no HTTP to anywhere but this site, no cron
		// requests to itself, no updates (the image is the update path).
		'WP_HTTP_BLOCK_EXTERNAL' => true,
		'DISABLE_WP_CRON' => true,
		'AUTOMATIC_UPDATER_DISABLED' => true,
		'WP_AUTO_UPDATE_CORE' => false,
		'DISALLOW_FILE_EDIT' => true,
		'WP_DEBUG' => false,
	];
	foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY',
		'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $k)
		$defines[$k] = bin2hex(random_bytes(32));

	$php = "<?php\n/* Written by the inception wordpress container on first start. */\n";
	foreach ($defines as $k => $v)
		$php .= sprintf("define( %s, %s );\n", var_export($k, true), var_export($v, true));
	$php .= "\$table_prefix = 'wp_';\n\n"
		. "/* That's all, stop editing! Happy publishing. */\n"
		. "if ( ! defined( 'ABSPATH' ) ) {\n\tdefine( 'ABSPATH', __DIR__ . '/' );\n}\n"
		. "require_once ABSPATH . 'wp-settings.php';\n";

	$tmp = "$path.tmp";
	$old = umask(0027);
	$ok = file_put_contents($tmp, $php) !== false
		&& chgrp($tmp, 'www-data') && chmod($tmp, 0640) && rename($tmp, $path);
	umask($old);
	if (!$ok)
		fail("cannot write $path");
	say("wrote $path");
}

function wait_for_db(string $host, string $user, string $password, string $name): void
{
	mysqli_report(MYSQLI_REPORT_OFF);
	$hostport = explode(':', $host, 2);
	$port = isset($hostport[1]) ? (int) $hostport[1] : 3306;
	$why = '';
	for ($i = 0; $i < DB_WAIT_SECONDS; $i++) {
		$db = @mysqli_connect($hostport[0], $user, $password, $name, $port);
		if ($db) {
			mysqli_close($db);
			return;
		}
		$why = mysqli_connect_error();
		sleep(1);
	}
	fail("database $host not reachable after " . DB_WAIT_SECONDS . " s: $why");
}

$domain = env('DOMAIN_NAME');
if (!preg_match('/^[A-Za-z0-9.-]+$/', $domain))
	fail("DOMAIN_NAME '$domain' is not a host name");
$config = WP_DIR . '/wp-config.php';
if (!file_exists($config))
	write_config($config, $domain);

/* WordPress believes it answers https://DOMAIN_NAME/ during the install. */
$_SERVER['HTTP_HOST'] = $domain;
$_SERVER['HTTPS'] = 'on';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
define('WP_INSTALLING', true);

/* Pluggable: the install would mail the password to the admin. */
function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password) {}

/* Wait with the same values wp-config.php was written from. */
wait_for_db(env('WORDPRESS_DB_HOST'), env('WORDPRESS_DB_USER'), secret('db_password'),
	env('WORDPRESS_DB_NAME'));

require WP_DIR . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

/* No HTTP at all while installing (the permalink probe calls the site). */
add_filter('pre_http_request', fn () => new WP_Error('offline', 'setup makes no HTTP requests'));

if (!is_blog_installed()) {
	$r = wp_install(env('WP_TITLE'), env('WP_ADMIN_USER'), env('WP_ADMIN_EMAIL'),
		true, '', wp_slash(secret('wp_admin_password')));
	if (empty($r['user_id']))
		fail('wp_install failed');
	update_option('permalink_structure', '/%postname%/');
	flush_rewrite_rules(false);
	// Comments need a login, and a logged-in user's comment appears at once.
	update_option('comment_registration', 1);
	update_option('comment_previously_approved', 0);
	say('installed https://' . $domain . ' for ' . env('WP_ADMIN_USER'));
}

$login = env('WP_USER');
if (!username_exists($login)) {
	$id = wp_insert_user([
		'user_login' => $login,
		'user_pass' => secret('wp_user_password'),
		'user_email' => env('WP_USER_EMAIL'),
		'display_name' => $login,
		'role' => 'author',
	]);
	if (is_wp_error($id))
		fail('cannot create ' . $login . ': ' . $id->get_error_message());
	say("created user $login (author)");
}
