-- wrk script: POST /api/analyze with real articles, one after another (not saved).
-- ARTICLES names the folder of articleN.txt files.
local dir = os.getenv("ARTICLES") or "../shared/data/ptc/test-articles"
local bodies = {}

local function esc(s)
  return (s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"'
    elseif c == '\\' then return '\\\\'
    elseif c == '\n' then return '\\n'
    elseif c == '\r' then return '\\r'
    elseif c == '\t' then return '\\t'
    else return string.format('\\u%04x', c:byte()) end
  end))
end

function init(args)
  local p = io.popen('ls "' .. dir .. '"')
  for name in p:lines() do
    if name:match("^article.*%.txt$") then
      local f = assert(io.open(dir .. "/" .. name, "rb"))
      local text = f:read("*a")
      f:close()
      bodies[#bodies + 1] = '{"text":"' .. esc(text) .. '"}'
    end
  end
  p:close()
  assert(#bodies > 0, "no articles in " .. dir)
  -- Each thread starts at a different article.
  counter = math.random(#bodies)
end

function request()
  counter = counter % #bodies + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[counter])
end
