-- Sessions are kept in the domain's own form (crates/domain/src/model.rs) instead of
-- RP API v2's: the request names a level, a signature protocol and an interaction with its
-- text, and a completed session keeps its outcome instead of v2's status body. Rows already
-- in the new form are left alone.
UPDATE sessions SET request = (
    SELECT jsonb_build_object(
        'relying_party_name', r -> 'relying_party_name',
        'level', r -> 'certificate_level',
        'protocol', CASE
            WHEN jsonb_typeof(r -> 'hash') = 'string' THEN jsonb_build_object(
                'scheme', 'pkcs1v15-digest',
                'digest_algorithm', CASE r ->> 'hash_type'
                    WHEN 'SHA256' THEN 'SHA-256'
                    WHEN 'SHA384' THEN 'SHA-384'
                    ELSE 'SHA-512'
                END,
                'digest', r -> 'hash')
            ELSE 'null'::jsonb
        END,
        'interaction', CASE
            WHEN jsonb_typeof(r -> 'interaction') = 'object' THEN jsonb_build_object(
                'kind', r -> 'interaction' -> 'type',
                'text', coalesce(r -> 'interaction' -> 'displayText60',
                                 r -> 'interaction' -> 'displayText200'))
            ELSE 'null'::jsonb
        END,
        'verification_code', coalesce(r -> 'verification_code', 'null'::jsonb),
        'code_choices', coalesce(r -> 'code_choices', '[]'::jsonb),
        'ignored_properties', coalesce(r -> 'ignored_properties', '[]'::jsonb))::text
    FROM (SELECT request::jsonb AS r) AS old)
WHERE (request::jsonb) -> 'certificate_level' IS NOT NULL;

UPDATE sessions SET result = (
    SELECT jsonb_build_object(
        'endResult', r -> 'result' -> 'endResult',
        'documentNumber', coalesce(r -> 'result' -> 'documentNumber', 'null'::jsonb),
        'signature', CASE
            WHEN jsonb_typeof(r -> 'signature') = 'object' THEN jsonb_build_object(
                'value', r -> 'signature' -> 'value',
                'algorithm', jsonb_build_object(
                    'scheme', 'pkcs1v15',
                    'digest', CASE r -> 'signature' ->> 'algorithm'
                        WHEN 'sha256WithRSAEncryption' THEN 'SHA-256'
                        WHEN 'sha384WithRSAEncryption' THEN 'SHA-384'
                        ELSE 'SHA-512'
                    END))
            ELSE 'null'::jsonb
        END,
        'certificate', CASE
            WHEN jsonb_typeof(r -> 'cert') = 'object' THEN jsonb_build_object(
                'der', r -> 'cert' -> 'value',
                'level', r -> 'cert' -> 'certificateLevel')
            ELSE 'null'::jsonb
        END,
        'interactionUsed', coalesce(r -> 'interactionFlowUsed', 'null'::jsonb),
        'ignoredProperties', coalesce(r -> 'ignoredProperties', '[]'::jsonb))::text
    FROM (SELECT result::jsonb AS r) AS old)
WHERE result IS NOT NULL AND (result::jsonb) -> 'state' IS NOT NULL;
