<?php
return ['driver' => 'array', 'lifetime' => 120, 'expire_on_close' => false, 'encrypt' => false,
        'cookie' => 'parthenon_session', 'path' => '/', 'domain' => null, 'secure' => false,
        'http_only' => true, 'same_site' => 'lax', 'lottery' => [2, 100]];
