<?php
/*
 * Adminer for Inception: Debian's compiled adminer.php with two of its own
 * plugins.  LoginServers offers only the stack's MariaDB (so Adminer cannot
 * be used to reach other hosts), VersionNoverify stops it phoning home (this
 * infrastructure is offline).
 */
define('ADMINER_DIR', '/usr/share/adminer');

function adminer_object()
{
	include_once ADMINER_DIR . '/plugins/plugin.php';
	include_once ADMINER_DIR . '/plugins/version-noverify.php';
	include_once ADMINER_DIR . '/plugins/login-servers.php';

	return new AdminerPlugin(array(
		new AdminerVersionNoverify(),
		new AdminerLoginServers(array(
			'mariadb' => array('server' => 'mariadb', 'driver' => 'server'),
		)),
	));
}

include ADMINER_DIR . '/adminer.php';
